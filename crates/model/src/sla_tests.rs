use super::*;
use proptest::prelude::*;

fn at(text: &str) -> Timestamp {
    Timestamp(text.parse::<jiff::Timestamp>().unwrap().as_second())
}

const OFFICE: [&str; 7] = [
    "09:00-17:00",
    "09:00-17:00",
    "09:00-17:00",
    "09:00-17:00",
    "09:00-17:00",
    "",
    "",
];

fn office(zone: &str, holidays: &[&str]) -> Calendar {
    let holidays: Vec<String> = holidays.iter().map(|h| h.to_string()).collect();
    Calendar::new(zone, OFFICE, &holidays).unwrap()
}

#[test]
fn friday_evening_plus_an_hour_is_monday_morning() {
    let cal = office("UTC", &[]);
    // 2026-12-04 is a Friday.
    let due = cal.add(at("2026-12-04T17:30:00Z"), 3600).unwrap();
    // (The "due Monday 09:30" holds for hours until 18:00: half an hour on
    // Friday, half an hour on Monday. With 17:00 the whole hour is on Monday.)
    assert_eq!(due, at("2026-12-07T10:00:00Z"));
    let mut late = OFFICE;
    late[4] = "09:00-18:00";
    let late = Calendar::new("UTC", late, &[]).unwrap();
    assert_eq!(
        late.add(at("2026-12-04T17:30:00Z"), 3600).unwrap(),
        at("2026-12-07T09:30:00Z")
    );
    assert_eq!(
        cal.add(at("2026-12-04T16:30:00Z"), 3600).unwrap(),
        at("2026-12-07T09:30:00Z")
    );
    assert_eq!(
        cal.between(at("2026-12-04T16:30:00Z"), at("2026-12-07T09:30:00Z")),
        3600
    );
    assert_eq!(
        cal.between(at("2026-12-07T09:00:00Z"), at("2026-12-08T09:00:00Z")),
        8 * 3600
    );
}

#[test]
fn holidays_and_split_days_are_skipped() {
    let mut week = OFFICE;
    week[4] = "09:00-12:00, 13:00-15:00";
    let cal = Calendar::new("UTC", week, &["2026-12-07".into()]).unwrap();
    // Friday 11:30 + 2h: 30 min before lunch, 1h30 after it.
    assert_eq!(
        cal.add(at("2026-12-04T11:30:00Z"), 7200).unwrap(),
        at("2026-12-04T14:30:00Z")
    );
    // Friday 14:30 + 1h: 30 min on Friday, Monday is a holiday, 30 min on Tuesday.
    assert_eq!(
        cal.add(at("2026-12-04T14:30:00Z"), 3600).unwrap(),
        at("2026-12-08T09:30:00Z")
    );
}

#[test]
fn berlin_hours_follow_daylight_saving() {
    let cal = office("Europe/Berlin", &[]);
    // Summer time (UTC+2) on Friday 2026-10-23, winter time (UTC+1) from Sunday the 25th.
    assert_eq!(
        cal.add(at("2026-10-23T14:30:00Z"), 3600).unwrap(),
        at("2026-10-26T08:30:00Z")
    );
    let round = Calendar::new("Europe/Berlin", ["00:00-24:00"; 7], &[]).unwrap();
    // The day the clocks go back has 25 hours.
    assert_eq!(
        round.between(at("2026-10-24T22:00:00Z"), at("2026-10-25T23:00:00Z")),
        25 * 3600
    );
    // The day they go forward, 23.
    assert_eq!(
        round.between(at("2026-03-28T23:00:00Z"), at("2026-03-29T22:00:00Z")),
        23 * 3600
    );
}

#[test]
fn bad_config_is_named() {
    assert!(Calendar::new("Mars/Olympus", OFFICE, &[])
        .unwrap_err()
        .contains("sla.zone"));
    let mut week = OFFICE;
    week[2] = "9-17";
    assert!(Calendar::new("UTC", week, &[])
        .unwrap_err()
        .contains("sla.hours.wed"));
    week[2] = "17:00-09:00";
    assert!(Calendar::new("UTC", week, &[]).is_err());
    assert!(Calendar::new("UTC", OFFICE, &["25.12.".into()])
        .unwrap_err()
        .contains("sla.holidays"));
    let closed = Calendar::new("UTC", [""; 7], &[]).unwrap();
    assert!(!closed.has_hours());
    assert_eq!(closed.add(at("2026-12-04T10:00:00Z"), 60), None);
}

#[test]
fn targets_and_times_parse() {
    assert_eq!(parse_target("1h30m"), Ok(5400));
    assert_eq!(parse_target("16h"), Ok(16 * 3600));
    assert!(parse_target("2d").is_err());
    assert!(parse_target("").is_err());
    let cal = office("UTC", &[]);
    let now = at("2026-12-01T10:00:00Z"); // a Tuesday
    assert_eq!(parse_when("4h", now, &cal), Ok(at("2026-12-01T14:00:00Z")));
    assert_eq!(parse_when("2d", now, &cal), Ok(at("2026-12-03T10:00:00Z")));
    assert_eq!(
        parse_when("mon 9:00", now, &cal),
        Ok(at("2026-12-07T09:00:00Z"))
    );
    assert_eq!(
        parse_when("Tuesday", now, &cal),
        Ok(at("2026-12-08T09:00:00Z"))
    );
    assert_eq!(
        parse_when("tomorrow 8:15", now, &cal),
        Ok(at("2026-12-02T08:15:00Z"))
    );
    assert_eq!(
        parse_when("2026-12-03 10:00", now, &cal),
        Ok(at("2026-12-03T10:00:00Z"))
    );
    assert_eq!(
        parse_when("2026-12-03T10:30", now, &cal),
        Ok(at("2026-12-03T10:30:00Z"))
    );
    assert!(parse_when("2026-11-03 10:00", now, &cal)
        .unwrap_err()
        .contains("past"));
    assert!(parse_when("soon", now, &cal).unwrap_err().contains("4h"));
    let berlin = office("Europe/Berlin", &[]);
    assert_eq!(
        parse_when("2026-12-03 10:00", now, &berlin),
        Ok(at("2026-12-03T09:00:00Z"))
    );
}

#[test]
fn the_clock_stops_while_pending_and_meets_its_targets() {
    let cal = office("UTC", &[]);
    let created = at("2026-12-04T17:30:00Z");
    let targets = Targets {
        first_response: Some(3600),
        next_response: Some(2 * 3600),
        resolution: None,
    };
    let mut clock = SlaClock::default();
    assert_eq!(
        clock.due(created, &targets, &cal),
        Some(at("2026-12-07T10:00:00Z"))
    );
    // Pending from Monday 09:10 to 09:40: the due time moves by those 30 minutes.
    clock.status_changed(Status::New, Status::Pending, at("2026-12-07T09:10:00Z"));
    assert_eq!(clock.due(created, &targets, &cal), None);
    clock.status_changed(Status::Pending, Status::Open, at("2026-12-07T09:40:00Z"));
    assert_eq!(
        clock.due(created, &targets, &cal),
        Some(at("2026-12-07T10:30:00Z"))
    );
    // Our reply meets the first response; the customer's next mail starts the next.
    clock.agent_replied(at("2026-12-07T10:00:00Z"));
    assert_eq!(clock.due(created, &targets, &cal), None);
    clock.customer_wrote(at("2026-12-07T16:00:00Z"));
    assert_eq!(
        clock.due(created, &targets, &cal),
        Some(at("2026-12-08T10:00:00Z"))
    );
    clock.status_changed(Status::Open, Status::Solved, at("2026-12-07T16:30:00Z"));
    assert_eq!(clock.due(created, &targets, &cal), None);
    assert_eq!(
        due_words(at("2026-12-07T10:00:00Z"), at("2026-12-07T08:00:00Z")),
        "due 2h"
    );
    assert_eq!(
        due_words(at("2026-12-07T10:00:00Z"), at("2026-12-07T10:15:00Z")),
        "breached 15m"
    );
    let now = Timestamp(1_000_000);
    for (secs, words) in [
        (172_797, "2d"),
        (7_170, "2h"),
        (3_590, "1h"),
        (89, "1m"),
        (5, "5s"),
        (86_000, "1d"),
        (20 * 86_400, "3w"),
    ] {
        assert_eq!(time_left(now, Timestamp(now.0 + secs)), words, "{secs}");
    }
}

#[test]
fn a_pause_after_the_target_was_reached_does_not_move_it() {
    let cal = Calendar::always();
    let created = Timestamp(0);
    let targets = Targets {
        first_response: Some(100),
        ..Targets::default()
    };
    let clock = SlaClock {
        pauses: vec![Pause {
            from: Timestamp(150),
            until: Timestamp(500),
        }],
        ..SlaClock::default()
    };
    assert_eq!(clock.due(created, &targets, &cal), Some(Timestamp(100)));
}

#[test]
fn an_old_ticket_s_clock_is_read_from_its_thread() {
    let t = |s| Timestamp(s);
    let thread = [
        (MessageKind::Inbound, t(10)),
        (MessageKind::Note, t(15)),
        (MessageKind::Outbound, t(20)),
        (MessageKind::Inbound, t(30)),
        (MessageKind::Inbound, t(40)),
    ];
    let clock = SlaClock::from_thread(thread, Status::Open, t(40));
    assert!(clock.tracked);
    assert_eq!(clock.first_reply, Some(t(20)));
    assert_eq!(clock.awaiting_since, Some(t(30)));
    let pending = SlaClock::from_thread(thread, Status::Pending, t(50));
    assert_eq!(pending.paused_since, Some(t(50)));
    assert_eq!(
        SlaClock::from_thread([], Status::Closed, t(9)).solved_at,
        Some(t(9))
    );
}

proptest! {
    #[test]
    fn adding_then_counting_gives_the_seconds_back(
        start in 1_780_000_000i64..1_800_000_000,
        secs in 0i64..400_000,
        berlin in any::<bool>(),
    ) {
        let cal = office(if berlin { "Europe/Berlin" } else { "UTC" }, &["2026-12-25"]);
        let end = cal.add(Timestamp(start), secs).unwrap();
        prop_assert!(end >= Timestamp(start));
        prop_assert_eq!(cal.between(Timestamp(start), end), secs);
    }

    #[test]
    fn between_adds_up(a in 1_780_000_000i64..1_800_000_000, x in 0i64..2_000_000, y in 0i64..2_000_000) {
        let cal = office("Europe/Berlin", &[]);
        let (a, b, c) = (Timestamp(a), Timestamp(a + x), Timestamp(a + x + y));
        prop_assert_eq!(cal.between(a, c), cal.between(a, b) + cal.between(b, c));
        prop_assert!(cal.between(a, b) <= x);
    }
}
