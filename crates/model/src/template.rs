//! Placeholders in texts the desk fills in for one reply: signatures (and saved replies).

/// What the placeholders stand for in one reply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placeholders {
    pub customer_name: String,
    pub customer_email: String,
    pub ticket: u64,
    pub agent: String,
    pub address_name: String,
    pub address_email: String,
}

/// `text` with `{customer.name}`, `{customer.email}`, `{ticket}`, `{agent}`,
/// `{address.name}` and `{address.email}` replaced; anything else in braces stays as
/// written. One pass, so a value that itself contains a placeholder is not expanded.
pub fn fill(text: &str, p: &Placeholders) -> String {
    let ticket = p.ticket.to_string();
    let names: [(&str, &str); 6] = [
        ("{customer.name}", &p.customer_name),
        ("{customer.email}", &p.customer_email),
        ("{ticket}", &ticket),
        ("{agent}", &p.agent),
        ("{address.name}", &p.address_name),
        ("{address.email}", &p.address_email),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        for (name, value) in names {
            if let Some(after) = tail.strip_prefix(name) {
                out.push_str(value);
                rest = after;
                continue 'scan;
            }
        }
        out.push('{');
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_placeholders_once() {
        let p = Placeholders {
            customer_name: "Ann {agent}".into(),
            customer_email: "ann@example.com".into(),
            ticket: 7,
            agent: "alice".into(),
            address_name: "Billing".into(),
            address_email: "billing@example.com".into(),
        };
        assert_eq!(
            fill("{agent} for {customer.name} on #{ticket} ({address.name} <{address.email}>) {nope} {", &p),
            "alice for Ann {agent} on #7 (Billing <billing@example.com>) {nope} {"
        );
    }
}
