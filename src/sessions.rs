//! actix-session's storage on our own database, so sessions survive a restart and a
//! logout is final: the cookie holds only the encrypted key of a row in `sessions`.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use rand::distr::{Alphanumeric, SampleString};

use crate::db::Db;
use crate::models::now;
use crate::models::session::SessionRecord;

type SessionState = HashMap<String, String>;

pub use crate::models::session::Owner;

#[derive(Clone)]
pub struct DbSessionStore {
    db: Db,
    /// How long a session without a user (a visit that only got a CSRF token) is kept:
    /// every anonymous visit stores a row, and they must not pile up for a month.
    anonymous_ttl: std::time::Duration,
}

impl DbSessionStore {
    pub fn new(db: Db, anonymous_ttl: std::time::Duration) -> Self {
        Self { db, anonymous_ttl }
    }

    fn expiry(ttl: &Duration) -> chrono::NaiveDateTime {
        now() + chrono::Duration::seconds(ttl.whole_seconds())
    }

    /// When a session with this state expires: logged-in sessions live the configured
    /// time, anonymous ones the (shorter) anonymous time.
    fn expiry_of(&self, state: &SessionState, ttl: &Duration) -> chrono::NaiveDateTime {
        if state.contains_key(crate::auth::USER_ID) {
            return Self::expiry(ttl);
        }
        let anonymous = Duration::seconds(self.anonymous_ttl.as_secs() as i64);
        Self::expiry(&anonymous.min(*ttl))
    }

    /// The logged-in user a session's state names (stored beside it, so that all of
    /// one user's sessions can be ended at once).
    fn user_of(state: &SessionState) -> Option<Owner> {
        let user_id = state.get(crate::auth::USER_ID).and_then(|json| serde_json::from_str(json).ok())?;
        let login_id = state.get(crate::auth::LOGIN_ID).and_then(|json| serde_json::from_str(json).ok())?;
        Some(Owner { user_id, login_id })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Db) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        // A stalled database fails the request after the database deadline, not never.
        let outcome = self.db.call(move |db| Ok(work(db))).await;
        outcome.map_err(anyhow::Error::from)?
    }
}

fn new_key() -> SessionKey {
    Alphanumeric.sample_string(&mut rand::rng(), 64).try_into().expect("64 characters fit in a session key")
}

impl SessionStore for DbSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let key = session_key.as_ref().to_owned();
        let state = self
            .blocking(move |db| Ok(SessionRecord::load(&mut db.get()?, &key, now())?))
            .await
            .map_err(LoadError::Other)?;
        match state {
            None => Ok(None),
            Some(json) => serde_json::from_str(&json).map(Some).map_err(|e| LoadError::Deserialization(e.into())),
        }
    }

    async fn save(&self, session_state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let expires_at = self.expiry_of(&session_state, ttl);
        let owner = Self::user_of(&session_state);
        let state = serde_json::to_string(&session_state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = new_key();
        let stored_key = key.as_ref().to_owned();
        self.blocking(move |db| Ok(SessionRecord::insert(&mut db.get()?, &stored_key, &state, expires_at, owner)?))
            .await
            .map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let expires_at = self.expiry_of(&session_state, ttl);
        let owner = Self::user_of(&session_state);
        let state = serde_json::to_string(&session_state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let key = session_key.as_ref().to_owned();
        let updated = self
            .blocking(move |db| Ok(SessionRecord::update(&mut db.get()?, &key, &state, expires_at, owner, now())?))
            .await
            .map_err(UpdateError::Other)?;
        if updated {
            return Ok(session_key);
        }
        // The row expired or was deleted meanwhile: keep the state under a fresh key, but
        // not the login: a login ended elsewhere (a password change, a disabled
        // account) must stay ended, even for a request that was under way.
        let mut anonymous = session_state;
        anonymous.remove(crate::auth::USER_ID);
        anonymous.remove(crate::auth::LOGIN_ID);
        let state = serde_json::to_string(&anonymous).map_err(|e| UpdateError::Serialization(e.into()))?;
        let key = new_key();
        let stored_key = key.as_ref().to_owned();
        self.blocking(move |db| Ok(SessionRecord::insert(&mut db.get()?, &stored_key, &state, expires_at, None)?))
            .await
            .map_err(UpdateError::Other)?;
        Ok(key)
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        let key = session_key.as_ref().to_owned();
        let expires_at = Self::expiry(ttl);
        self.blocking(move |db| Ok(SessionRecord::touch(&mut db.get()?, &key, expires_at)?)).await
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        let key = session_key.as_ref().to_owned();
        self.blocking(move |db| Ok(SessionRecord::delete(&mut db.get()?, &key)?)).await
    }
}
