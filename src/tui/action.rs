//! What screens and popups ask the app to do. Like gitui's internal event queue, this
//! keeps screens from reaching into each other: a screen returns an [`Action`] and the
//! app, the one place that owns the screen stack, carries it out.

use super::popups::Popup;
use super::screens::queue::StatusFilter;
use crate::model::{CustomerId, MessageKind, Priority, Status, TicketNo};

pub(crate) enum Action {
    Quit,
    /// Close the screen on top (the queue at the bottom stays).
    Back,
    OpenTicket(TicketNo),
    OpenCustomer(CustomerId),
    /// Boxed: popups carry actions of their own (a picker's choices).
    Popup(Box<Popup>),
    /// Show the keys of the screen on top.
    Help,
    PickTheme,
    SetTheme(String),
    /// A transient status-line message.
    Info(String),
    /// A transient status-line error; every desk error ends up here, never in a panic.
    Error(String),
    /// A popup's answer, for the screen on top (which opened the popup) to act on.
    Choice(Choice),
}

/// What the agent picked or typed in a popup.
pub(crate) enum Choice {
    Status(Status),
    Priority(Priority),
    /// An agent's name, or `None` to unassign.
    Assign(Option<String>),
    /// Comma-separated tags as typed.
    Tags(String),
    /// The ticket number as typed, to be checked and confirmed before merging.
    MergeTarget(String),
    /// Confirmed: merge the ticket on screen into this one.
    Merge(TicketNo),
    /// Reply or note text, from the editor.
    Send(MessageKind, String),
    StatusFilter(StatusFilter),
    /// The tag to filter the queue by, as typed; empty clears the filter.
    TagFilter(String),
}

impl Action {
    pub fn popup(popup: Popup) -> Action {
        Action::Popup(Box::new(popup))
    }
}
