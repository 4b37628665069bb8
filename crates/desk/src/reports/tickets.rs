//! The reports over tickets, all read from the queue index in memory: volume, backlog,
//! response times and SLA outcomes.

use super::table::{median, p90, Table};
use super::Scope;
use crate::{Result, SharedRow};
use sealdesk_model::{Calendar, Column, Row, Status, Targets, Ticket, Timestamp, Unit};

type Figures = (Vec<Column>, Vec<Row>);

fn columns(names: &[(&str, Unit)]) -> Vec<Column> {
    names
        .iter()
        .map(|(name, unit)| Column {
            name: name.to_string(),
            unit: *unit,
        })
        .collect()
}

/// When `t` became solved or closed, if it is so now (a ticket stored before its SLA
/// clock was kept: its last update).
pub(super) fn solved_at(t: &Ticket) -> Option<Timestamp> {
    matches!(t.status, Status::Solved | Status::Closed)
        .then(|| t.sla.solved_at.unwrap_or(t.updated))
}

/// `opened` (created in the period), `solved` (became solved or closed in it).
pub(super) fn volume(scope: &Scope, rows: &[SharedRow]) -> Result<Figures> {
    let mut table: Table<[i64; 2]> = scope.table()?;
    for r in rows {
        let t = &r.ticket;
        table.at(t, t.created, scope.range(), |c| c[0] += 1);
        if let Some(at) = solved_at(t) {
            table.at(t, at, scope.range(), |c| c[1] += 1);
        }
    }
    let cols = columns(&[("opened", Unit::Count), ("solved", Unit::Count)]);
    Ok((cols, table.into_rows(|c| c.map(Some).to_vec())))
}

/// The age buckets of the backlog: label, column name, upper bound in seconds.
const BUCKETS: [(&str, &str, i64); 6] = [
    ("< 1 day", "under_1_day", 86_400),
    ("1-3 days", "days_1_3", 3 * 86_400),
    ("3-7 days", "days_3_7", 7 * 86_400),
    ("1-2 weeks", "weeks_1_2", 14 * 86_400),
    ("2-4 weeks", "weeks_2_4", 28 * 86_400),
    ("> 4 weeks", "over_4_weeks", i64::MAX),
];

fn bucket(age: i64) -> usize {
    BUCKETS
        .iter()
        .position(|b| age < b.2)
        .unwrap_or(BUCKETS.len() - 1)
}

/// Tickets not solved or closed at `to`, by age since created: per bucket `open` and
/// `pending` (snoozed is pending), or with `by` per group one column per bucket.
pub(super) fn backlog(scope: &Scope, rows: &[SharedRow]) -> Result<Figures> {
    let to = scope.to;
    // (the bucket, pending) of each ticket in the backlog at `to`.
    let waiting = rows.iter().filter_map(|r| {
        let t = &r.ticket;
        let done_before = solved_at(t).is_some_and(|at| at < to);
        if t.created >= to || done_before {
            return None;
        }
        // Solved since `to`: it was open then.
        let pending =
            solved_at(t).is_none() && (t.status == Status::Pending || t.snoozed_until.is_some());
        Some((r, bucket(to.0 - t.created.0), pending))
    });
    if scope.grouping.is_some() {
        let mut table: Table<[i64; 6]> = scope.table()?;
        for (r, b, _) in waiting {
            table.in_groups(&r.ticket, |c| c[b] += 1);
        }
        let cols: Vec<(&str, Unit)> = BUCKETS.iter().map(|b| (b.1, Unit::Count)).collect();
        return Ok((columns(&cols), table.into_rows(|c| c.map(Some).to_vec())));
    }
    let mut table: Table<[i64; 2]> = Table::fixed(BUCKETS.iter().map(|b| b.0.to_string()));
    for (_, b, pending) in waiting {
        table.row(b)[usize::from(pending)] += 1;
    }
    let cols = columns(&[("open", Unit::Count), ("pending", Unit::Count)]);
    Ok((cols, table.into_rows(|c| c.map(Some).to_vec())))
}

#[derive(Default)]
struct Times {
    tickets: i64,
    first: Vec<i64>,
    resolution: Vec<i64>,
}

/// Tickets created in the period: `tickets`, and the median and p90 of the first
/// response (our first reply − created) and of the resolution (solved − created), in
/// wall-clock seconds, of those that had one before `to`.
pub(super) fn response_times(scope: &Scope, rows: &[SharedRow]) -> Result<Figures> {
    let mut table: Table<Times> = scope.table()?;
    let to = scope.to;
    for r in rows {
        let t = &r.ticket;
        let since = |at: Timestamp| (at < to).then_some((at.0 - t.created.0).max(0));
        let first = t.sla.first_reply.and_then(since);
        let resolution = solved_at(t).and_then(since);
        table.at(t, t.created, scope.range(), |c| {
            c.tickets += 1;
            c.first.extend(first);
            c.resolution.extend(resolution);
        });
    }
    let cols = columns(&[
        ("tickets", Unit::Count),
        ("first_response_median", Unit::Seconds),
        ("first_response_p90", Unit::Seconds),
        ("resolution_median", Unit::Seconds),
        ("resolution_p90", Unit::Seconds),
    ]);
    let rows = table.into_rows(|c| {
        vec![
            Some(c.tickets),
            median(&mut c.first),
            p90(&mut c.first),
            median(&mut c.resolution),
            p90(&mut c.resolution),
        ]
    });
    Ok((cols, rows))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    Met,
    Breached,
    Running,
}

/// How `t` stands against its SLA `targets` at `to`: breached when any target's due
/// time came before it was met (a target that is never met breaches once its due time
/// passes, unless the ticket was pending since before then); met when every target has
/// been met; running otherwise.
fn outcome(t: &Ticket, targets: &Targets, calendar: &Calendar, to: Timestamp) -> Outcome {
    let clock = &t.sla;
    let paused = clock.paused_since.filter(|&p| p < to);
    let judge = |start: Timestamp, target: i64, done: Option<Timestamp>| {
        let Some(due) = clock.target_reached(start, target, calendar) else {
            return Outcome::Running;
        };
        match done.filter(|&d| d < to) {
            Some(d) if d <= due => Outcome::Met,
            Some(_) => Outcome::Breached,
            None if due <= to && paused.is_none_or(|p| due < p) => Outcome::Breached,
            None => Outcome::Running,
        }
    };
    let solved = solved_at(t).filter(|&s| s < to);
    let mut judged = Vec::with_capacity(3);
    if let Some(f) = targets.first_response {
        judged.push(judge(t.created, f, clock.first_reply));
    }
    if let Some(r) = targets.resolution {
        judged.push(judge(t.created, r, solved));
    }
    // Only the customer's latest wait is known: earlier next responses are not kept.
    if let (Some(n), Some(since), None) = (targets.next_response, clock.awaiting_since, solved) {
        judged.push(match judge(since, n, None) {
            Outcome::Breached => Outcome::Breached,
            _ => Outcome::Running,
        });
    }
    if judged.contains(&Outcome::Breached) {
        Outcome::Breached
    } else if judged.contains(&Outcome::Running) {
        Outcome::Running
    } else if judged.is_empty() && solved.is_none() {
        // A next-response target alone, nobody waiting now: done when solved.
        Outcome::Running
    } else {
        Outcome::Met
    }
}

/// Tickets an SLA policy applies to, per period of creation or group: `met`,
/// `breached` (any target missed), `running` (no outcome yet) at `to`.
pub(super) fn sla(scope: &Scope, rows: &[SharedRow]) -> Result<Figures> {
    let mut table: Table<[i64; 3]> = scope.table()?;
    let calendar = scope.rules.calendar();
    for r in rows {
        let t = &r.ticket;
        let Some(targets) = scope.rules.targets_for(t) else {
            continue;
        };
        if t.created < scope.from || t.created >= scope.to {
            continue;
        }
        let i = match outcome(t, &targets, calendar, scope.to) {
            Outcome::Met => 0,
            Outcome::Breached => 1,
            Outcome::Running => 2,
        };
        table.at(t, t.created, scope.range(), |c| c[i] += 1);
    }
    let cols = columns(&[
        ("met", Unit::Count),
        ("breached", Unit::Count),
        ("running", Unit::Count),
    ]);
    Ok((cols, table.into_rows(|c| c.map(Some).to_vec())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_model::{CustomerId, Priority, SlaClock, TicketNo};

    fn ticket(created: i64, clock: SlaClock, status: Status) -> Ticket {
        Ticket {
            number: TicketNo(1),
            subject: "s".into(),
            status,
            priority: Priority::Normal,
            assignee: None,
            tags: Vec::new(),
            customer: CustomerId([0; 16]),
            created: Timestamp(created),
            updated: Timestamp(created),
            due: None,
            address: None,
            participants: Vec::new(),
            links: Vec::new(),
            snoozed_until: None,
            due_by_hand: false,
            sla: clock,
        }
    }

    #[test]
    fn sla_outcomes() {
        let cal = Calendar::always();
        let targets = Targets {
            first_response: Some(3600),
            next_response: None,
            resolution: Some(86_400),
        };
        let to = Timestamp(200_000);
        let mut clock = SlaClock::start();
        let at = |t: &Ticket| outcome(t, &targets, &cal, to);
        // Nothing yet, 1h passed: first response breached.
        assert_eq!(
            at(&ticket(0, clock.clone(), Status::Open)),
            Outcome::Breached
        );
        // Created just now: running.
        assert_eq!(
            at(&ticket(199_000, clock.clone(), Status::New)),
            Outcome::Running
        );
        clock.first_reply = Some(Timestamp(1_000));
        // Replied in time, not solved after a day: resolution breached.
        assert_eq!(
            at(&ticket(0, clock.clone(), Status::Open)),
            Outcome::Breached
        );
        // Replied and solved in time: met.
        clock.solved_at = Some(Timestamp(50_000));
        assert_eq!(at(&ticket(0, clock.clone(), Status::Solved)), Outcome::Met);
        // Pending since before the resolution was due: running.
        clock.solved_at = None;
        clock.paused_since = Some(Timestamp(40_000));
        assert_eq!(at(&ticket(0, clock, Status::Pending)), Outcome::Running);
    }
}
