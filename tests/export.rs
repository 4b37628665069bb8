//! `sealdesk customer export`: the archive's content against docs/export.schema.json,
//! its checksums, and that nothing of another customer leaks into it.

mod common;

use common::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Unpacks a .tar.gz into path → bytes (paths without the top directory).
fn unpack(path: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap());
    let mut archive = tar::Archive::new(gz);
    let mut files = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let (_, inner) = name.split_once('/').expect("one top directory");
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        files.insert(inner.to_string(), bytes);
    }
    files
}

/// A small JSON Schema checker: type, enum, required, properties, items, $ref.
fn check(schema: &Value, root: &Value, v: &Value, at: &str) -> Vec<String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        return check(&root["$defs"][name], root, v, at);
    }
    let mut errors = Vec::new();
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = |ty: &str| match ty {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "object" => v.is_object(),
            "array" => v.is_array(),
            "null" => v.is_null(),
            _ => false,
        };
        if !types.iter().any(|t| fits(t)) {
            errors.push(format!("{at}: {v} is not {types:?}"));
            return errors;
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errors.push(format!("{at}: {v} not in {e:?}"));
        }
    }
    for req in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = req.as_str().unwrap();
        if v.get(key).is_none() {
            errors.push(format!("{at}: missing {key}"));
        }
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        v.as_object(),
    ) {
        for (k, s) in props {
            if let Some(child) = obj.get(k) {
                errors.extend(check(s, root, child, &format!("{at}.{k}")));
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, child) in arr.iter().enumerate() {
            errors.extend(check(items, root, child, &format!("{at}[{i}]")));
        }
    }
    errors
}

fn validate(files: &BTreeMap<String, Vec<u8>>, path: &str, def: &str, schema: &Value) -> Value {
    let v: Value =
        serde_json::from_slice(files.get(path).unwrap_or_else(|| panic!("{path} missing")))
            .unwrap();
    let errors = check(&schema["$defs"][def], schema, &v, path);
    assert!(errors.is_empty(), "{errors:#?}");
    v
}

#[test]
fn export_is_complete_valid_and_holds_nobody_else() {
    let d = TempDesk::with_support_address();
    ok(
        &d,
        &[
            "config",
            "set",
            "privacy.controller",
            "Example Ltd, 1 Main St",
        ],
    );
    ingest(&d, "From: Ann Lee <ann@example.com>\r\nSubject: Invoice AnnOnly\r\nMessage-ID: <a1@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nMy invoice AnnOnly.\r\n--B\r\nContent-Type: application/pdf; name=\"inv.pdf\"\r\nContent-Disposition: attachment; filename=\"../../inv.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--B--\r\n");
    // Bob joins Ann's thread (a colleague in Cc answering), and has a ticket of his own.
    ingest(&d, "From: Bob Roe <bob@example.com>\r\nSubject: Re: Invoice\r\nMessage-ID: <b1@example.com>\r\nIn-Reply-To: <a1@example.com>\r\n\r\nBobSecret from bob@example.com\r\n");
    ingest(&d, "From: Bob Roe <bob@example.com>\r\nSubject: BobOwnTicket\r\nMessage-ID: <b2@example.com>\r\n\r\nBobSecret again\r\n");
    ok(&d, &["ticket", "reply", "1", "--body", "Dear Ann, fixed."]);
    ok(
        &d,
        &[
            "ticket",
            "reply",
            "1",
            "--note",
            "--body",
            "checked the invoice",
        ],
    );
    ok(
        &d,
        &[
            "consent",
            "record",
            "ann@example.com",
            "--purpose",
            "040",
            "--state",
            "given",
            "--category",
            "C001",
        ],
    );
    let open = ok(
        &d,
        &[
            "request",
            "open",
            "ann@example.com",
            "--kind",
            "export",
            "--ticket",
            "1",
        ],
    );
    let request_id = open.split_whitespace().next().unwrap().to_string();
    ok(
        &d,
        &["request", "verify", &request_id, "--method", "called back"],
    );

    let out = d.dir.path().join("ann.tar.gz");
    let said = ok(
        &d,
        &[
            "customer",
            "export",
            "ann@example.com",
            "--out",
            out.to_str().unwrap(),
            "--request",
            &request_id,
        ],
    );
    assert!(said.contains("exported"), "{said}");
    let files = unpack(&out);
    let schema: Value = serde_json::from_str(include_str!("../docs/export.schema.json")).unwrap();

    let manifest = validate(&files, "manifest.json", "manifest", &schema);
    assert_eq!(manifest["request_id"], request_id.as_str());
    assert_eq!(manifest["controller"], "Example Ltd, 1 Main St");
    let cats: Vec<&str> = manifest["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(cats.contains(&"C001") && cats.contains(&"C132"), "{cats:?}");
    let purposes: Vec<&str> = manifest["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(purposes, ["090", "040"]);
    let profile = validate(&files, "profile.json", "profile", &schema);
    assert_eq!(profile["name"], "Ann Lee");
    validate(&files, "consents.json", "consents", &schema);
    let requests = validate(&files, "requests.json", "requests", &schema);
    assert_eq!(requests[0]["kind"], "export");
    let ticket = validate(&files, "tickets/1/ticket.json", "ticket", &schema);
    let kinds: Vec<(&str, bool)> = ticket["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["redacted"] == true))
        .collect();
    assert_eq!(
        kinds,
        [
            ("inbound", false),
            ("inbound", true),
            ("outbound", false),
            ("note", false)
        ]
    );
    assert!(files.contains_key("tickets/1/1.eml") && files.contains_key("tickets/1/3.eml"));
    assert!(
        String::from_utf8_lossy(&files["tickets/1/1.eml"]).contains("Message-ID: <a1@example.com>")
    );
    assert!(
        !files.keys().any(|k| k.starts_with("tickets/2/")),
        "Bob's own ticket is not Ann's"
    );
    let attachment = files
        .keys()
        .find(|k| k.starts_with("attachments/"))
        .expect("the attachment");
    assert!(
        attachment.ends_with("-inv.pdf") && !attachment.contains(".."),
        "{attachment}"
    );
    assert_eq!(files[attachment], b"%PDF-");
    assert!(String::from_utf8_lossy(&files["index.html"]).contains("Invoice AnnOnly"));

    // SHA256SUMS lists every other file with its digest.
    let sums = String::from_utf8(files["SHA256SUMS"].clone()).unwrap();
    let listed: BTreeMap<&str, &str> = sums
        .lines()
        .map(|l| {
            let (h, p) = l.split_once("  ").unwrap();
            (p, h)
        })
        .collect();
    assert_eq!(listed.len(), files.len() - 1);
    for (path, bytes) in &files {
        if path != "SHA256SUMS" {
            assert_eq!(
                listed[path.as_str()],
                hex::encode(Sha256::digest(bytes)),
                "{path}"
            );
        }
    }

    // Nothing of Bob: not his words, his address or his name, in any file.
    for (path, bytes) in &files {
        for needle in ["BobSecret", "bob@example.com", "Bob Roe", "BobOwnTicket"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} in {path}"
            );
        }
    }

    // Bob's export has his message in Ann's thread, hers redacted, and not her subject.
    let bob_out = d.dir.path().join("bob.tar.gz");
    ok(
        &d,
        &[
            "customer",
            "export",
            "bob@example.com",
            "--out",
            bob_out.to_str().unwrap(),
            "--override",
            "test: asked in person",
        ],
    );
    let bob = unpack(&bob_out);
    let t1: Value = serde_json::from_slice(&bob["tickets/1/ticket.json"]).unwrap();
    assert_eq!(t1["subject"], Value::Null);
    assert_eq!(t1["messages"][0]["redacted"], true);
    assert!(t1["messages"][1]["text"]
        .as_str()
        .unwrap()
        .contains("BobSecret"));
    assert_eq!(t1["messages"].as_array().unwrap().len(), 4);
    assert!(
        t1["messages"].as_array().unwrap()[2..]
            .iter()
            .all(|m| m["redacted"] == true),
        "replies to Ann are Ann's"
    );
    for (path, bytes) in &bob {
        for needle in ["AnnOnly", "ann@example.com", "Ann Lee", "Dear Ann"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} in Bob's {path}"
            );
        }
    }
}
