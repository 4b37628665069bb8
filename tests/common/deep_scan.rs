//! A scanner for plaintext at rest that also looks inside archives: every file under the
//! given dirs, and inside each gzip stream, tar archive and zip archive it finds (nested too),
//! for each canary as UTF-8, UTF-16LE, base64 (at every alignment, also across MIME line
//! breaks) and quoted-printable (across soft line breaks).

use super::needles;
use std::io::Read;
use std::path::Path;

/// How deep archives inside archives are opened.
const MAX_DEPTH: usize = 4;

/// Every hit as "path[!member…]: canary". Panics if no file was scanned at all, so a wrong
/// directory cannot pass for a clean one.
pub(crate) fn hits(dirs: &[&Path], canaries: &[&str]) -> Vec<String> {
    let patterns: Vec<(&str, Vec<Vec<u8>>)> = canaries.iter().map(|c| (*c, needles(c))).collect();
    let mut out = Vec::new();
    let mut files = 0;
    for dir in dirs {
        for path in super::walk(dir) {
            files += 1;
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            scan_bytes(&path.display().to_string(), &bytes, &patterns, 0, &mut out);
        }
    }
    assert!(files > 0, "scanned no files at all in {dirs:?}");
    out
}

/// Like [`hits`] for one file's bytes (an export streamed to stdout, a mail in a sink).
pub(crate) fn hits_in(name: &str, bytes: &[u8], canaries: &[&str]) -> Vec<String> {
    let patterns: Vec<(&str, Vec<Vec<u8>>)> = canaries.iter().map(|c| (*c, needles(c))).collect();
    let mut out = Vec::new();
    scan_bytes(name, bytes, &patterns, 0, &mut out);
    out
}

fn scan_bytes(
    name: &str,
    bytes: &[u8],
    patterns: &[(&str, Vec<Vec<u8>>)],
    depth: usize,
    out: &mut Vec<String>,
) {
    let unwrapped = without_line_breaks(bytes);
    for (canary, forms) in patterns {
        let found = forms
            .iter()
            .any(|n| contains(bytes, n) || unwrapped.as_deref().is_some_and(|u| contains(u, n)));
        if found {
            out.push(format!("{name}: {canary}"));
        }
    }
    if depth >= MAX_DEPTH {
        return;
    }
    for (member, inner) in members(bytes) {
        scan_bytes(
            &format!("{name}!{member}"),
            &inner,
            patterns,
            depth + 1,
            out,
        );
    }
}

/// The bytes with CR/LF removed and quoted-printable soft breaks (`=\r\n`, `=\n`) joined,
/// when there are any: base64 and quoted-printable bodies wrap at 76 columns, which can cut a
/// canary in two.
fn without_line_breaks(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.contains(&b'\n') {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') => i += 3,
            b'\r' | b'\n' => i += 1,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() || hay.len() < needle.len() {
        return false;
    }
    let first = needle[0];
    hay.windows(needle.len())
        .any(|w| w[0] == first && w == needle)
}

/// The decoded contents found in `bytes`: a gzip stream's payload (also when it is not at the
/// start, e.g. a gzip inside a sled log page), each member of a tar archive, each member of a
/// zip archive.
fn members(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    // gzip: every place that starts with the magic and a deflate method byte.
    let mut at = 0;
    while let Some(pos) = find(&bytes[at..], &[0x1f, 0x8b, 0x08]) {
        let start = at + pos;
        let mut payload = Vec::new();
        let mut dec = flate2::read::MultiGzDecoder::new(&bytes[start..]);
        if dec.read_to_end(&mut payload).is_ok() || !payload.is_empty() {
            out.push((format!("gzip@{start}"), payload));
        }
        at = start + 3;
    }
    // tar: the ustar magic at offset 257 of the first header.
    if bytes.len() >= 512 && &bytes[257..262] == b"ustar" {
        let mut archive = tar::Archive::new(bytes);
        if let Ok(entries) = archive.entries() {
            for entry in entries.flatten() {
                let mut entry = entry;
                let name = entry
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| "?".into());
                let mut content = Vec::new();
                let _ = entry.read_to_end(&mut content);
                out.push((name.clone(), content));
                out.push((format!("{name}#name"), name.into_bytes()));
            }
        }
    }
    // zip: local file headers (stored or deflated members).
    let mut at = 0;
    while let Some(pos) = find(&bytes[at..], b"PK\x03\x04") {
        let h = at + pos;
        at = h + 4;
        let Some(header) = bytes.get(h..h + 30) else {
            break;
        };
        let u16le = |o: usize| u16::from_le_bytes([header[o], header[o + 1]]) as usize;
        let u32le = |o: usize| {
            u32::from_le_bytes([header[o], header[o + 1], header[o + 2], header[o + 3]]) as usize
        };
        let (method, compressed) = (u16le(8), u32le(18));
        let (name_len, extra_len) = (u16le(26), u16le(28));
        let data = h + 30 + name_len + extra_len;
        let name = bytes
            .get(h + 30..h + 30 + name_len)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let Some(rest) = bytes.get(data..) else {
            continue;
        };
        let body = if compressed > 0 && compressed <= rest.len() {
            &rest[..compressed]
        } else {
            rest
        };
        let content = match method {
            0 => body.to_vec(),
            8 => {
                let mut c = Vec::new();
                let _ = flate2::read::DeflateDecoder::new(body).read_to_end(&mut c);
                c
            }
            _ => continue,
        };
        out.push((format!("zip:{name}"), content));
        out.push((format!("zip:{name}#name"), name.into_bytes()));
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
