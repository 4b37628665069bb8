//! Where a session starts (Part 10 deep links): `ssh -t -p PORT NAME@HOST open N`
//! opens ticket N, `… queue VIEW` the queue with that saved view. The SSH server reads
//! the command; the app goes there after the usual start.

use sealdesk_model::TicketNo;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartAt {
    Ticket(TicketNo),
    /// A saved view, by name.
    View(String),
}

impl StartAt {
    /// The command after the host, as the client sent it; the error is one line that
    /// says what would work.
    pub fn parse(command: &str) -> Result<StartAt, String> {
        let command = command.trim();
        let (verb, rest) = command
            .split_once(char::is_whitespace)
            .unwrap_or((command, ""));
        let rest = rest.trim();
        match verb {
            "open" => rest
                .trim_start_matches('#')
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .map(|n| StartAt::Ticket(TicketNo(n)))
                .ok_or_else(|| "give a ticket number: open N (e.g. open 12)".to_string()),
            "queue" if !rest.is_empty() => Ok(StartAt::View(rest.to_string())),
            "queue" => Err("give a saved view's name: queue VIEW".into()),
            _ => Err("the commands are: open N (a ticket), queue VIEW (a saved view)".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_or_say_what_works() {
        assert_eq!(StartAt::parse("open 12"), Ok(StartAt::Ticket(TicketNo(12))));
        assert_eq!(
            StartAt::parse(" open #3 "),
            Ok(StartAt::Ticket(TicketNo(3)))
        );
        assert_eq!(
            StartAt::parse("queue My billing"),
            Ok(StartAt::View("My billing".into()))
        );
        assert!(StartAt::parse("open x").unwrap_err().contains("open N"));
        assert!(StartAt::parse("queue").unwrap_err().contains("queue VIEW"));
        assert!(StartAt::parse("ls -l").unwrap_err().contains("open N"));
    }
}
