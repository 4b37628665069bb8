//! Part 11: login secrets kept out of the config: a password file (first line) or a
//! command that prints an OAuth2 access token. Shared by the IMAP fetcher and the relay
//! sender; neither the secret nor the command's output ever reaches an error or a log.

use anyhow::anyhow;
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// How long a command for a token may run.
const TOKEN_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The first line of `path`, which must not be empty. `what` names the setting.
pub fn password_from_file(what: &str, path: &Path) -> anyhow::Result<Zeroizing<String>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| anyhow!("{what} {}: cannot read it ({e})", path.display()))?,
    );
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(anyhow!(
            "{what} {}: the first line is empty; put the password there",
            path.display()
        ));
    }
    Ok(Zeroizing::new(line.to_string()))
}

/// Runs `command` (`sh -c`) and takes the first line of its output as a bearer token.
/// `what` names the setting.
pub async fn token_from_command(what: &str, command: &str) -> anyhow::Result<Zeroizing<String>> {
    // A std child on a blocking thread: tokio's `process` feature would put a child
    // reaper into every runtime of the binary for this one rare call.
    let command = command.to_string();
    let run = tokio::task::spawn_blocking(move || run_with_timeout(&command));
    let output = match run.await {
        Ok(Ok(Some(output))) => output,
        Ok(Ok(None)) => return Err(anyhow!("{what} did not finish within 30 s")),
        Ok(Err(e)) => return Err(anyhow!("{what} cannot run ({e})")),
        Err(e) => return Err(anyhow!("{what} cannot run ({e})")),
    };
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        return Err(anyhow!(
            "{what} failed ({}); run it by hand to see why",
            output.status
        ));
    }
    let text = Zeroizing::new(String::from_utf8_lossy(&stdout).into_owned());
    let token = text.lines().next().unwrap_or("").trim();
    if token.is_empty() {
        return Err(anyhow!(
            "{what} printed no token; it must print the access token on its first line"
        ));
    }
    Ok(Zeroizing::new(token.to_string()))
}

/// Runs `sh -c command` with stdin closed and stderr dropped; None if it outran
/// [`TOKEN_COMMAND_TIMEOUT`] (then it is killed).
fn run_with_timeout(command: &str) -> std::io::Result<Option<std::process::Output>> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = std::time::Instant::now() + TOKEN_COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = reader.join().unwrap_or_default();
    Ok(Some(std::process::Output {
        status,
        stdout,
        stderr: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_token_is_the_first_line_and_failures_never_show_the_output() {
        let t = token_from_command("oauth2_command", "printf 'tok123\\nmore\\n'")
            .await
            .unwrap();
        assert_eq!(t.as_str(), "tok123");
        let e = token_from_command("oauth2_command", "echo secret-out; exit 3")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("oauth2_command failed") && !e.contains("secret-out"),
            "{e}"
        );
        let e = token_from_command("oauth2_command", "true")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("printed no token"), "{e}");
    }

    #[test]
    fn a_password_is_the_first_line_of_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cret\r\nignored\n").unwrap();
        assert_eq!(
            password_from_file("password_file", &p).unwrap().as_str(),
            "s3cret"
        );
        std::fs::write(&p, "\n").unwrap();
        let e = password_from_file("password_file", &p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("first line is empty"), "{e}");
    }
}
