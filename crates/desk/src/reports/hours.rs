//! Busiest hours of the week: when customer messages came in, per weekday and local
//! hour. The times of inbound messages are kept in memory ([`Arrivals`]): read from
//! the store once, on the first `hours` report, then kept current by every unit of
//! work (the tickets a unit touched are read again). An erased customer's messages
//! keep their kind and time in their placeholders, so they still count.

use super::table::Table;
use super::Scope;
use crate::{Desk, Result};
use jiff::tz::TimeZone;
use parking_lot::{Mutex, RwLock};
use sealdesk_model::sla::WEEKDAYS;
use sealdesk_model::{Column, MessageKind, Row, TicketNo, Unit};
use std::collections::HashMap;

/// Per ticket, the times its customer messages came in.
type Times = HashMap<TicketNo, Vec<i64>>;

#[derive(Default)]
pub(crate) struct Arrivals {
    slot: RwLock<Slot>,
    /// One builder at a time.
    build: Mutex<()>,
}

#[derive(Default)]
struct Slot {
    built: Option<Times>,
    building: bool,
    /// Tickets read again while the build ran: these readings are newer.
    early: Times,
}

impl Desk {
    /// Reads ticket `number`'s arrival times again (after a unit touched it), if they
    /// are kept.
    pub(crate) fn refresh_arrivals(&self, number: TicketNo) {
        {
            let slot = self.arrivals.slot.read();
            if slot.built.is_none() && !slot.building {
                return;
            }
        }
        let times = match self.read_arrivals(number) {
            Ok(times) => times,
            Err(e) => {
                tracing::warn!("arrival times of {number} not refreshed: {e}");
                return;
            }
        };
        let mut slot = self.arrivals.slot.write();
        let slot = &mut *slot;
        match slot.built.as_mut() {
            Some(all) => {
                all.insert(number, times);
            }
            None if slot.building => {
                slot.early.insert(number, times);
            }
            None => {}
        }
    }

    /// The times of ticket `number`'s customer messages (none if it is gone). A message
    /// that cannot be read at all (only a restored old backup has such) is left out.
    fn read_arrivals(&self, number: TicketNo) -> Result<Vec<i64>> {
        Ok(self
            .store
            .messages(number)?
            .into_iter()
            .flatten()
            .filter(|m| m.kind == MessageKind::Inbound)
            .map(|m| m.at.0)
            .collect())
    }

    fn ensure_arrivals(&self) -> Result<()> {
        if self.arrivals.slot.read().built.is_some() {
            return Ok(());
        }
        let _builder = self.arrivals.build.lock();
        if self.arrivals.slot.read().built.is_some() {
            return Ok(());
        }
        self.arrivals.slot.write().building = true;
        let built = (|| -> Result<Times> {
            let mut all = Times::new();
            for number in self.store.ticket_numbers()? {
                all.insert(number, self.read_arrivals(number)?);
            }
            Ok(all)
        })();
        let mut slot = self.arrivals.slot.write();
        slot.building = false;
        let early = std::mem::take(&mut slot.early);
        let mut all = built?;
        all.extend(early);
        slot.built = Some(all);
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
            let slot = self.arrivals.slot.read();
            for &at in slot.built.iter().flat_map(|all| all.values()).flatten() {
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
