//! The privacy proofs rely on `common::deep_scan`: it must find a canary in every form and
//! container the desk or a mail could leave it in, and nothing where there is none.

mod common;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use common::deep_scan::hits;
use std::io::Write;
use std::process::Command;

const CANARY: &str = "CANARYdeepScan7731";

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn finds_a_canary_in_every_form_and_container() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("plain.txt", format!("x {CANARY} y").into_bytes()),
        (
            "utf16.bin",
            CANARY
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes())
                .collect(),
        ),
        ("b64.txt", {
            // Wrapped at 76 columns, as MIME does, with the canary across a line break.
            let enc = B64.encode(format!("{}{CANARY}", "p".repeat(50)));
            let mut wrapped = Vec::new();
            for chunk in enc.as_bytes().chunks(76) {
                wrapped.extend_from_slice(chunk);
                wrapped.extend_from_slice(b"\r\n");
            }
            wrapped
        }),
        (
            "qp.eml",
            format!(
                "Subject: x\r\n\r\n{}{}=\r\n{}\r\n",
                "a".repeat(70),
                &CANARY[..5],
                &CANARY[5..]
            )
            .into_bytes(),
        ),
        ("inner.gz", gzip(format!("zz{CANARY}zz").as_bytes())),
        ("embedded.bin", {
            let mut b = b"sled page header ....".to_vec();
            b.extend(gzip(CANARY.as_bytes()));
            b.extend_from_slice(b"trailing");
            b
        }),
        ("export.tar.gz", {
            let mut tar = tar::Builder::new(Vec::new());
            let body = format!("{{\"name\": \"{CANARY}\"}}");
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o600);
            h.set_cksum();
            tar.append_data(&mut h, "export/profile.json", body.as_bytes())
                .unwrap();
            gzip(&tar.into_inner().unwrap())
        }),
        ("name-only.tar", {
            let mut tar = tar::Builder::new(Vec::new());
            let mut h = tar::Header::new_gnu();
            h.set_size(1);
            h.set_cksum();
            tar.append_data(&mut h, format!("att/{CANARY}.pdf"), &b"x"[..])
                .unwrap();
            tar.into_inner().unwrap()
        }),
    ];
    for (name, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "clean.txt", b"nothing to see");
        write(dir.path(), name, &bytes);
        let found = hits(&[dir.path()], &[CANARY]);
        // An archive's hit shows at the outer level too (the tar inside a gzip stream).
        assert!(!found.is_empty(), "{name}: not found");
        assert!(found.iter().all(|h| h.contains(name)), "{found:?}");
    }
}

#[test]
fn finds_a_canary_in_deflated_and_stored_zip_members() {
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "import zipfile\n\
         with zipfile.ZipFile('{d}/a.zip', 'w', zipfile.ZIP_DEFLATED) as z:\n    z.writestr('notes.txt', 'abc ' * 100 + '{c}')\n\
         with zipfile.ZipFile('{d}/b.zip', 'w', zipfile.ZIP_STORED) as z:\n    z.writestr('x.txt', '{c}')\n",
        d = dir.path().display(),
        c = CANARY
    );
    let st = Command::new("python3")
        .args(["-c", &script])
        .status()
        .unwrap();
    assert!(st.success());
    let found = hits(&[dir.path()], &[CANARY]);
    assert!(found.iter().any(|h| h.contains("b.zip")), "{found:?}");
    // The deflated member hides the canary from a byte scan: only the zip reader sees it.
    let a = std::fs::read(dir.path().join("a.zip")).unwrap();
    assert!(!a.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()));
    assert!(
        found.iter().any(|h| h.contains("a.zip!zip:notes.txt")),
        "{found:?}"
    );
}

#[test]
fn reports_nothing_where_there_is_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.gz", &gzip(b"other text entirely"));
    write(dir.path(), "b.txt", &CANARY.as_bytes()[..10]);
    assert!(hits(&[dir.path()], &[CANARY]).is_empty());
}
