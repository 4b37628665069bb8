//! QR codes drawn with text, so an authenticator app can scan one off the terminal.

use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;

/// `text` as a QR code in Unicode half blocks, two modules per character cell, with the
/// quiet zone around it. Drawn light-on-dark, as most terminals are: the modules a
/// printed code has white are the blocks here (apps read either way round).
pub(super) fn draw(text: &str) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::new(text.as_bytes())?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_square_of_half_blocks() {
        let art = draw("otpauth://totp/sealdesk:alice?secret=GEZDGNBV&issuer=sealdesk").unwrap();
        let lines: Vec<&str> = art.lines().collect();
        assert!(lines.len() > 10, "{art}");
        let width = lines[0].chars().count();
        assert!(lines.iter().all(|l| l.chars().count() == width), "{art}");
        // Two modules per line: about half as many lines as columns.
        assert!((width / 2..=width / 2 + 1).contains(&lines.len()), "{art}");
        assert!(art.chars().all(|c| " ▀▄█\n".contains(c)), "{art}");
        // The quiet zone is light, which is a full block here.
        assert!(lines[0].chars().all(|c| c == '█'), "{art}");
    }
}
