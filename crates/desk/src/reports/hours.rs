//! Busiest hours of the week: when customer messages came in, per weekday and local
//! hour. The times of inbound messages are kept in memory ([`Arrivals`]): gathered
//! while the body index is built (which reads every message anyway, at `serve`), or
//! else read from the store on the first `hours` report; then kept current by every
//! unit of work (the tickets a unit touched are read again, once, with their bodies
//! when the body index is on). An erased customer's messages keep their kind and time
//! in their placeholders, so they still count.

use super::table::Table;
use super::Scope;
use crate::{Desk, Result};
use jiff::tz::TimeZone;
use parking_lot::{Mutex, RwLock};
use sealdesk_model::sla::WEEKDAYS;
use sealdesk_model::{Column, Message, MessageKind, Row, TicketNo, Unit};
use std::collections::HashMap;

/// Per ticket, the store's commit count it was read at and the times its customer
/// messages came in.
type Times = HashMap<TicketNo, (u64, Vec<i64>)>;

#[derive(Default)]
pub(crate) struct Arrivals {
    slot: RwLock<Slot>,
    /// Held by whoever builds them (a report, or the body index's build).
    build: Mutex<()>,
}

#[derive(Default)]
struct Slot {
    built: Option<Times>,
    building: bool,
    /// Tickets read while the build runs.
    early: Times,
}

/// Puts in `times` read at `version` unless a later reading is there.
fn put(all: &mut Times, number: TicketNo, version: u64, times: Vec<i64>) {
    if all.get(&number).is_none_or(|(v, _)| *v <= version) {
        all.insert(number, (version, times));
    }
}

/// The times of the customer messages among `messages`.
pub(crate) fn inbound_times<'m>(messages: impl IntoIterator<Item = &'m Message>) -> Vec<i64> {
    messages
        .into_iter()
        .filter(|m| m.kind == MessageKind::Inbound)
        .map(|m| m.at.0)
        .collect()
}

impl Desk {
    /// Reads ticket `number`'s arrival times again (after a unit touched it), if they
    /// are kept and the body index does not read the ticket anyway.
    pub(crate) fn refresh_arrivals(&self, number: TicketNo) {
        if self.bodies_in_use() || !self.arrivals_in_use() {
            return;
        }
        let version = self.store.commits();
        match self.read_arrivals(number) {
            Ok(times) => self.feed_arrivals(number, version, times),
            Err(e) => tracing::warn!("arrival times of {number} not refreshed: {e}"),
        }
    }

    fn arrivals_in_use(&self) -> bool {
        let slot = self.report_memory.arrivals.slot.read();
        slot.built.is_some() || slot.building
    }

    /// Ticket `number`'s arrival times as read at `version` (by the body index or a
    /// refresh), if they are kept.
    pub(crate) fn feed_arrivals(&self, number: TicketNo, version: u64, times: Vec<i64>) {
        let mut slot = self.report_memory.arrivals.slot.write();
        let slot = &mut *slot;
        match slot.built.as_mut() {
            Some(all) => put(all, number, version, times),
            None if slot.building => put(&mut slot.early, number, version, times),
            None => {}
        }
    }

    /// The body index's build gathers the arrival times too: `gather` runs it while
    /// they are being built, unless they are already.
    pub(crate) fn gathering_arrivals(&self, gather: impl FnOnce()) {
        let _builder = self.report_memory.arrivals.build.lock();
        let own = {
            let mut slot = self.report_memory.arrivals.slot.write();
            let own = slot.built.is_none();
            slot.building |= own;
            own
        };
        gather();
        if own {
            let mut slot = self.report_memory.arrivals.slot.write();
            slot.building = false;
            slot.built = Some(std::mem::take(&mut slot.early));
        }
    }

    /// After the store was reopened: read again when next needed.
    pub(crate) fn arrivals_reopened(&self) {
        *self.report_memory.arrivals.slot.write() = Slot::default();
    }

    /// The times of ticket `number`'s customer messages (none if it is gone). A message
    /// that cannot be read at all (only a restored old backup has such) is left out.
    fn read_arrivals(&self, number: TicketNo) -> Result<Vec<i64>> {
        let messages: Vec<Message> = self.store.messages(number)?.into_iter().flatten().collect();
        Ok(inbound_times(&messages))
    }

    fn ensure_arrivals(&self) -> Result<()> {
        if self.report_memory.arrivals.slot.read().built.is_some() {
            return Ok(());
        }
        let _builder = self.report_memory.arrivals.build.lock();
        if self.report_memory.arrivals.slot.read().built.is_some() {
            return Ok(());
        }
        self.report_memory.arrivals.slot.write().building = true;
        let built = (|| -> Result<()> {
            for number in self.store.ticket_numbers()? {
                let version = self.store.commits();
                let times = self.read_arrivals(number)?;
                self.feed_arrivals(number, version, times);
            }
            Ok(())
        })();
        let mut slot = self.report_memory.arrivals.slot.write();
        slot.building = false;
        let early = std::mem::take(&mut slot.early);
        built?;
        slot.built = Some(early);
        Ok(())
    }

    /// Builds the arrival times now (the bench times it apart from the reports).
    pub fn index_arrivals(&self) -> Result<()> {
        self.ensure_arrivals()
    }

    /// Rows `mon` … `sun`, columns `h00` … `h23`: customer messages received in the
    /// range, by local weekday and hour.
    pub(super) fn hours_report(&self, scope: &Scope) -> Result<(Vec<Column>, Vec<Row>)> {
        self.ensure_arrivals()?;
        let mut table: Table<[i64; 24]> = Table::fixed(WEEKDAYS.iter().map(|d| d.to_string()));
        let mut local = LocalHours::new(&scope.zone);
        {
            let slot = self.report_memory.arrivals.slot.read();
            for &at in slot
                .built
                .iter()
                .flat_map(|all| all.values())
                .flat_map(|(_, times)| times)
            {
                if at < scope.from.0 || at >= scope.to.0 {
                    continue;
                }
                if let Some((day, hour)) = local.of(at) {
                    table.row(day)[hour] += 1;
                }
            }
        }
        let cols = (0..24)
            .map(|h| Column {
                name: format!("h{h:02}"),
                unit: Unit::Count,
            })
            .collect();
        Ok((cols, table.into_rows(|c| c.map(Some).to_vec())))
    }
}

/// Weekday (Monday 0) and hour of an instant in a zone, remembered per quarter hour
/// (every zone's offset is a whole number of quarter hours).
struct LocalHours<'a> {
    zone: &'a TimeZone,
    known: HashMap<i64, Option<(usize, usize)>>,
}

impl<'a> LocalHours<'a> {
    fn new(zone: &'a TimeZone) -> LocalHours<'a> {
        LocalHours {
            zone,
            known: HashMap::new(),
        }
    }

    fn of(&mut self, at: i64) -> Option<(usize, usize)> {
        let quarter = at.div_euclid(900);
        let zone = self.zone;
        *self.known.entry(quarter).or_insert_with(|| {
            let ts = jiff::Timestamp::from_second(quarter * 900).ok()?;
            let dt = zone.to_datetime(ts);
            Some((
                dt.weekday().to_monday_zero_offset() as usize,
                dt.hour() as usize,
            ))
        })
    }
}
