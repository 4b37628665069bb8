//! What screens and popups ask the app to do. Like gitui's internal event queue, this
//! keeps screens from reaching into each other: a screen returns an [`Action`] and the
//! app, the one place that owns the screen stack, carries it out.

use super::popups::{FormAnswer, Popup};
use super::screens::queue::StatusFilter;
use super::screens::request::RequestStep;
use sealdesk_model::{CustomerId, Priority, RequestId, RequestKind, Status, TicketNo};

pub(crate) enum Action {
    Quit,
    /// Close the screen on top (the queue at the bottom stays).
    Back,
    OpenTicket(TicketNo),
    /// Open a ticket found by a search: its thread starts at the first message that
    /// holds a word of the text.
    OpenTicketFound(TicketNo, String),
    OpenCustomer(CustomerId),
    /// The consent ledger of a customer.
    OpenConsent(CustomerId),
    /// Every privacy request, most urgent first.
    OpenRequests,
    OpenRequest(RequestId),
    /// The audit log (admins only).
    OpenAudit,
    /// Quarantined mail (admins only).
    OpenQuarantine,
    /// The agent's notification list (`N`).
    OpenNotifications,
    /// What the agent is told about (`O`).
    OpenNotifySettings,
    /// The reports: charts of how the desk is doing.
    OpenReports,
    /// The global search, as typed: an address, part of a name, or a ticket number.
    Find(String),
    /// Several actions in order, e.g. an error for the status line and the form again.
    Many(Vec<Action>),
    /// Boxed: popups carry actions of their own (a picker's choices).
    Popup(Box<Popup>),
    /// Show the keys of the screen on top.
    Help,
    /// Show the status line's last messages.
    ShowMessages,
    PickTheme,
    SetTheme(String),
    /// The signature under this agent's replies, as typed in one line (`\n` between
    /// lines); empty removes it.
    SetSignature(String),
    /// A transient status-line message.
    Info(String),
    /// A transient status-line error; every desk error ends up here, never in a panic.
    Error(String),
    /// A popup's answer, for the screen on top (which opened the popup) to act on.
    Choice(Choice),
    /// Pick a macro to apply to these tickets.
    PickMacro(Vec<TicketNo>),
    /// Apply the macro called `name` to these tickets.
    ApplyMacro {
        name: String,
        tickets: Vec<TicketNo>,
    },
    /// Show the saved-replies manager.
    ManageTemplates,
    /// What the saved-replies manager asked for.
    ChangeTemplate(super::popups::template_manager::TemplateChange),
}

/// What the agent picked or typed in a popup.
pub(crate) enum Choice {
    /// File a quarantined message after all.
    QuarantineRelease(sealdesk_model::QuarantineId),
    /// Confirmed: delete a quarantined message for good.
    QuarantineDelete(sealdesk_model::QuarantineId),
    Status(Status),
    Priority(Priority),
    /// An agent's name, or `None` to unassign.
    Assign(Option<String>),
    /// Comma-separated tags as typed.
    Tags(String),
    /// Snooze the ticket on screen (or selected) until this, as typed; empty wakes it.
    Snooze(String),
    /// The due time by hand of the ticket on screen (or selected), as typed; empty
    /// gives it back to the SLA policy.
    Due(String),
    /// The ticket number as typed, to be checked and confirmed before merging.
    MergeTarget(String),
    /// Confirmed: merge the ticket on screen into this one.
    Merge(TicketNo),
    /// Take this file (by name) off the draft being written on the ticket on screen.
    Detach(String),
    StatusFilter(StatusFilter),
    /// The tag to filter the queue by, as typed; empty clears the filter.
    TagFilter(String),
    /// The consent form's answers, to record for the customer on screen.
    Consent(FormAnswer),
    /// Open a privacy request of this kind for the ticket or customer on screen.
    NewRequest(RequestKind),
    /// A step on the request on screen, with the text it needs (method, code, reason,
    /// note; empty for steps that need none).
    RequestStep(RequestStep, String),
    /// Confirmed: mail this stored export for the request on screen (`None`: make
    /// one first).
    MailExport(Option<sealdesk_model::ExportId>),
    /// The address typed to confirm erasing the customer on screen.
    Erase(String),
    /// An admin's reason to send the refused reply on screen to a restricted customer.
    ReplyOverride(String),
    /// An admin's reason to export the customer on screen without a verified request.
    ExportOverride(String),
    /// An admin's reason to erase the customer on screen without a verified request.
    EraseOverride(String),
    /// The audit filter form's answers.
    AuditFilter(FormAnswer),
    /// A macro was applied (the queue clears its marks).
    MacroApplied,
    /// A step of a split or a link, for the ticket screen.
    Links(super::screens::ticket::links::LinkStep),
    /// A step of a bulk action, for the queue (which holds its tickets).
    Bulk(super::popups::bulk::BulkStep),
    /// A saved reply picked for the editor, filled for the ticket: the ticket screen
    /// inserts `text` at its editor's cursor.
    InsertTemplate {
        name: String,
        text: String,
    },
    /// What the saved-views manager asked for (the queue acts on it).
    View(super::popups::views::ViewChoice),
}

impl Action {
    pub(crate) fn popup(popup: Popup) -> Action {
        Action::Popup(Box::new(popup))
    }
}
