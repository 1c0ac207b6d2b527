//! The `chatroom` command: `serve` (the default), `migrate`, or `admin grant|revoke`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use chatroom::config::Config;

#[derive(Parser)]
#[command(version, about = "A self-hosted, browser-based multi-person chat room server")]
struct Cli {
    /// The configuration file (settings in CHATROOM_* variables override it).
    #[arg(long, env = "CHATROOM_CONFIG", default_value = "conf/app.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Server administrators: they act as owner in every room and may disable accounts.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Make the account of this phone number an administrator.
    Grant { phone: String },
    /// Make it an ordinary account again.
    Revoke { phone: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli.config) {
        Ok(config) => config,
        Err(message) => return fail(&message),
    };
    chatroom::telemetry::init_logging(&config.log);
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => chatroom::prepare(config)
            .and_then(|prepared| actix_web::rt::System::new().block_on(chatroom::serve(prepared))),
        Command::Migrate => chatroom::prepare(config).map(|_| println!("chatroom: the database is up to date")),
        Command::Admin { action } => {
            let (phone, grant) = match action {
                AdminAction::Grant { phone } => (phone, true),
                AdminAction::Revoke { phone } => (phone, false),
            };
            let region = config.default_region.parse().map_err(|_| "bad default_region".to_owned());
            region.and_then(|region| {
                let prepared = chatroom::prepare(config)?;
                chatroom::services::admin::grant(&prepared.db, &phone, region, grant)
                    .map(|done| println!("chatroom: {done}"))
            })
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

/// One clear line and a non-zero exit: no panic, no backtrace.
fn fail(message: &str) -> ExitCode {
    eprintln!("chatroom: {message}");
    ExitCode::FAILURE
}
