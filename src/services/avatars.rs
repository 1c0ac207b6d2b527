//! Turning an uploaded picture into an avatar: PNG, JPEG, GIF (its first frame) or WebP,
//! at most 4096×4096 (read from the header before anything is decoded, so that a small
//! file declaring a huge image costs nothing), turned upright by its EXIF orientation,
//! cut to its centre square, scaled to 256×256 and encoded anew: no metadata of the
//! upload survives.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use crate::models::avatar::Avatar;

/// The side of a stored avatar, in pixels.
pub const SIDE: u32 = 256;
/// The largest picture accepted, in pixels on either side.
pub const MAX_SIDE: u32 = 4096;

/// Why an upload is not an avatar: said to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the file is not a PNG, JPEG, GIF or WebP image")]
    NotAnImage,
    #[error("the image is larger than {MAX_SIDE}×{MAX_SIDE} pixels")]
    TooBig,
    #[error("the image could not be read: it may be damaged or cut short")]
    Damaged,
}

/// Makes the avatar of an uploaded file. Blocking work: run it off the async workers.
pub fn process(upload: &[u8]) -> Result<Avatar, Refused> {
    let format = ImageReader::new(Cursor::new(upload))
        .with_guessed_format()
        .map_err(|_| Refused::NotAnImage)?
        .format()
        .filter(|f| matches!(f, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP))
        .ok_or(Refused::NotAnImage)?;
    let (width, height) =
        ImageReader::with_format(Cursor::new(upload), format).into_dimensions().map_err(|_| Refused::Damaged)?;
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(Refused::TooBig);
    }
    if width == 0 || height == 0 {
        return Err(Refused::Damaged);
    }
    let mut reader = ImageReader::with_format(Cursor::new(upload), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // Room for a 4096×4096 RGBA picture and the decoder's own buffers, no more.
    limits.max_alloc = Some(4 * u64::from(MAX_SIDE) * u64::from(MAX_SIDE) * 2);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| Refused::Damaged)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|_| Refused::Damaged)?;
    picture.apply_orientation(orientation);
    let side = picture.width().min(picture.height());
    let (x, y) = ((picture.width() - side) / 2, (picture.height() - side) / 2);
    let square = picture.crop_imm(x, y, side, side).resize_exact(SIDE, SIDE, FilterType::Lanczos3);
    let (data, content_type) = encode(&square);
    let version = Sha256::digest(&data).iter().take(8).map(|b| format!("{b:02x}")).collect();
    Ok(Avatar { version, content_type: content_type.to_owned(), data })
}

/// PNG when the picture has transparency, else JPEG (a photo is far smaller so).
fn encode(square: &DynamicImage) -> (Vec<u8>, &'static str) {
    let mut out = Cursor::new(Vec::new());
    if square.color().has_alpha() {
        square.to_rgba8().write_to(&mut out, ImageFormat::Png).expect("encoding to memory");
        (out.into_inner(), "image/png")
    } else {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        square.to_rgb8().write_with_encoder(encoder).expect("encoding to memory");
        (out.into_inner(), "image/jpeg")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = image::RgbImage::from_fn(width, height, |x, _| image::Rgb([(x % 256) as u8, 0, 0]));
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_wide_picture_becomes_its_centre_square() {
        let avatar = process(&png(600, 300)).unwrap();
        assert_eq!(avatar.content_type, "image/jpeg");
        let stored = image::load_from_memory(&avatar.data).unwrap();
        assert_eq!((stored.width(), stored.height()), (SIDE, SIDE));
        assert_eq!(avatar.version.len(), 16);
    }

    #[test]
    fn what_is_not_an_image_or_is_too_big_is_refused_before_decoding() {
        assert_eq!(process(b"hello, I am not a picture").unwrap_err(), Refused::NotAnImage);
        let whole = png(64, 64);
        assert_eq!(process(&whole[..whole.len() / 2]).unwrap_err(), Refused::Damaged);
    }
}
