//! A payload as a QR code picture: the matrix from the `qrcode` crate (without its `image`
//! dependency) written as a 1-bit greyscale PNG with the `png` crate.
//!
//! Choices, each for a reason:
//! - error correction level M (15 % of the symbol recoverable): printed stickers get scuffed,
//!   and a 512-character payload still fits (version 40-M holds 2,331 bytes);
//! - the payload's bytes go in numeric, alphanumeric and byte segments, never Kanji: the
//!   `qrcode` optimiser would read some UTF-8 byte pairs as Shift_JIS Kanji, and a reader would
//!   then hand back different characters than we encoded (and the CRC would fail);
//! - a quiet zone of four modules on every side, as ISO/IEC 18004 requires, and whole pixels
//!   per module so nothing is resampled.
use qrcode::bits::Bits;
use qrcode::optimize::{Optimizer, Parser, Segment};
use qrcode::types::Mode;
use qrcode::{Color, EcLevel, QrCode, Version};

/// Pixels per module side.
pub const MODULE_PX: u32 = 8;
/// Light modules around the symbol.
pub const QUIET_ZONE_MODULES: u32 = 4;
/// QR code versions 1 to 40.
const VERSION_MAX: i16 = 40;

/// A rendered code.
#[derive(Debug, Clone)]
pub struct QrImage {
    /// The PNG file's bytes.
    pub png: Vec<u8>,
    /// Width and height in pixels, quiet zone included.
    pub side_px: u32,
    /// Modules per side of the symbol, quiet zone excluded.
    pub modules: u32,
    /// QR code version, 1–40.
    pub version: i16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("payload does not fit in a QR code at error correction level M")]
    TooLong,
    #[error("cannot write the PNG: {0}")]
    Png(String),
}

/// Renders `payload` (an encoded MPM payload) as a PNG.
pub fn render_png(payload: &str) -> Result<QrImage, ImageError> {
    let code = symbol(payload.as_bytes())?;
    let modules = u32::try_from(code.width()).map_err(|_| ImageError::TooLong)?;
    let version = match code.version() {
        Version::Normal(v) => v,
        Version::Micro(v) => v,
    };
    let side_modules = modules + 2 * QUIET_ZONE_MODULES;
    let side_px = side_modules * MODULE_PX;
    let pixels = pack_rows(&code.to_colors(), modules, side_px);
    let png = encode_png(&pixels, side_px)?;
    Ok(QrImage {
        png,
        side_px,
        modules,
        version,
    })
}

/// The smallest QR code version that holds `data` at level M.
fn symbol(data: &[u8]) -> Result<QrCode, ImageError> {
    let segments: Vec<Segment> = Parser::new(data)
        .map(|s| match s.mode {
            Mode::Kanji => Segment {
                mode: Mode::Byte,
                ..s
            },
            _ => s,
        })
        .collect();
    for number in 1..=VERSION_MAX {
        let version = Version::Normal(number);
        let mut bits = Bits::new(version);
        let pushed = bits
            .push_segments(data, Optimizer::new(segments.iter().copied(), version))
            .and_then(|()| bits.push_terminator(EcLevel::M));
        if pushed.is_ok() {
            return QrCode::with_bits(bits, EcLevel::M).map_err(|_| ImageError::TooLong);
        }
    }
    Err(ImageError::TooLong)
}

/// Rows of 1-bit pixels, most significant bit first, 1 = light, each row padded to a byte.
fn pack_rows(colors: &[Color], modules: u32, side_px: u32) -> Vec<u8> {
    let row_bytes = side_px.div_ceil(8) as usize;
    let mut out = vec![0u8; row_bytes * side_px as usize];
    for y in 0..side_px {
        for x in 0..side_px {
            let module = |p: u32| (p / MODULE_PX).checked_sub(QUIET_ZONE_MODULES);
            let dark = match (module(x), module(y)) {
                (Some(mx), Some(my)) if mx < modules && my < modules => {
                    let index = (my * modules + mx) as usize;
                    colors.get(index) == Some(&Color::Dark)
                }
                _ => false,
            };
            if !dark {
                let byte = y as usize * row_bytes + (x / 8) as usize;
                out[byte] |= 0x80 >> (x % 8);
            }
        }
    }
    out
}

fn encode_png(pixels: &[u8], side_px: u32) -> Result<Vec<u8>, ImageError> {
    let png_error = |e: png::EncodingError| ImageError::Png(e.to_string());
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side_px, side_px);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(pixels).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_text_is_never_put_in_kanji_mode() {
        // メ is E3 83 A1 in UTF-8, which the optimiser alone would take for Shift_JIS Kanji.
        let data = "メルペイ カフェ".as_bytes();
        assert!(Parser::new(data).any(|s| s.mode == Mode::Kanji));
        let code = symbol(data).unwrap();
        let colors = code.to_colors();
        let grid = rqrr::SimpleGrid::from_func(code.width(), |x, y| {
            colors[y * code.width() + x] == Color::Dark
        });
        let (_, text) = rqrr::Grid::new(grid).decode().unwrap();
        assert_eq!(text, "メルペイ カフェ");
    }

    #[test]
    fn the_quiet_zone_is_light() {
        let image = render_png("000201").unwrap();
        assert_eq!(image.side_px, (image.modules + 8) * MODULE_PX);
        let code = symbol(b"000201").unwrap();
        let pixels = pack_rows(&code.to_colors(), image.modules, image.side_px);
        let row_bytes = image.side_px.div_ceil(8) as usize;
        // The first 32 rows are quiet zone: all light.
        assert!(pixels[..row_bytes * 32].iter().all(|b| *b == 0xFF));
        // The top-left finder pattern starts dark just inside the quiet zone.
        let first_dark_row = &pixels[row_bytes * 32..row_bytes * 33];
        assert_eq!(first_dark_row[4], 0x00);
    }
}
