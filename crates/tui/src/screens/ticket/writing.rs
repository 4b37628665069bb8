//! Writing on a ticket: the editor pane's draft kept by the desk (opened, saved on a
//! pause, at Esc and at the session's end, sent, discarded), undo send, files on the
//! draft, and the warning when someone else is replying.

use super::{TicketScreen, KEYS};
use crate::action::{Action, Choice};
use crate::display::human_size;
use crate::keymap;
use crate::popups::{Editor, EditorEvent, Picker, Popup, Prompt};
use crate::screens::Ctx;
use sealdesk_api::{Activity, DeskError};
use sealdesk_model::sanitize;
use sealdesk_model::{Draft, MessageKind, Timestamp};
use std::time::Duration;

/// How long after the last key a draft is saved (the clock ticks once a second, so a
/// draft is saved 1.5 to 2.5 s after typing stops).
const SAVE_AFTER: Duration = Duration::from_millis(1500);

impl TicketScreen {
    /// True while the editor is open: keys are typed into it.
    pub(crate) fn editing(&self) -> bool {
        self.editor.is_some()
    }

    pub(crate) fn hints(&self) -> Vec<(String, &'static str)> {
        match &self.editor {
            Some(editor) => editor.hints(),
            None => keymap::hints(KEYS),
        }
    }

    pub(crate) fn paste(&mut self, ctx: &Ctx, text: &str) -> Option<Action> {
        let event = self.editor.as_mut()?.paste(text);
        self.editor_event(ctx, event)
    }

    /// Opens the editor on this agent's draft if there is one (whatever `r` or `n` was
    /// pressed: one draft per agent and ticket), else on a new `kind`; a reply's
    /// To/Cc/Bcc come from the draft, else from the ticket's defaults.
    pub(super) fn open_editor(&mut self, ctx: &Ctx, kind: MessageKind) -> Option<Action> {
        let (desk, actor, n) = (ctx.desk, &ctx.session.actor, self.ticket.number);
        let draft = match desk.draft(actor, n) {
            Ok(draft) => draft,
            Err(e) => return Some(Action::Error(e.to_string())),
        };
        let said = draft.as_ref().map(|d| match d.kind {
            MessageKind::Note => "your draft note is back",
            _ => "your draft reply is back",
        });
        self.editor = Some(Box::new(self.editor_for(ctx, kind, draft)));
        self.update_warning(ctx);
        said.map(|text| Action::Info(text.to_string()))
    }

    pub(super) fn editor_for(&self, ctx: &Ctx, kind: MessageKind, draft: Option<Draft>) -> Editor {
        let n = self.ticket.number;
        let draft = draft.unwrap_or_else(|| {
            let mut d = Draft::new(n, &ctx.session.agent.name, Timestamp::now());
            d.kind = kind;
            d
        });
        let mut parties = draft.parties.clone();
        if draft.kind != MessageKind::Note && parties.to.is_empty() {
            parties = ctx
                .desk
                .reply_parties(&ctx.session.actor, n)
                .unwrap_or_default();
        }
        Editor::new(draft.kind, n, &draft.body, &parties, draft.attachments)
    }

    /// What the editor asked for.
    pub(super) fn editor_event(&mut self, ctx: &Ctx, event: EditorEvent) -> Option<Action> {
        let n = self.ticket.number;
        match event {
            EditorEvent::Stay | EditorEvent::Edited => None,
            EditorEvent::Scroll(step) => {
                self.scroll.apply(step);
                None
            }
            EditorEvent::Keep => {
                // Saved already if nothing changed since (or never written: no draft).
                let kept = match self.editor.as_ref()?.edited() {
                    Some(_) => self.save_draft(ctx),
                    None => Ok(self.editor.as_ref()?.has_content()),
                };
                let editor = self.editor.take()?;
                self.reload_draft_files(ctx);
                match kept {
                    Err(e) => {
                        self.editor = Some(editor);
                        Some(Action::Error(format!("draft not saved: {e}")))
                    }
                    Ok(false) => None,
                    Ok(true) => {
                        let key = match editor.kind() {
                            MessageKind::Note => "n",
                            _ => "r",
                        };
                        Some(Action::Info(format!(
                            "draft on {n} kept: {key} to go on writing, Ctrl-X in the editor to discard it"
                        )))
                    }
                }
            }
            EditorEvent::Discard => match ctx.desk.discard_draft(&ctx.session.actor, n) {
                Ok(()) => {
                    self.editor = None;
                    self.reload_draft_files(ctx);
                    Some(Action::Info(format!("draft on {n} discarded")))
                }
                Err(e) => Some(Action::Error(e.to_string())),
            },
            EditorEvent::Detach => {
                let files = self.editor.as_ref()?.files();
                let items = files
                    .iter()
                    .map(|f| {
                        (
                            format!("{} ({})", sanitize::line(&f.name), human_size(f.size)),
                            Action::Choice(Choice::Detach(f.name.clone())),
                        )
                    })
                    .collect();
                let picker = Picker::new("Take which file off the draft?", items, 0);
                Some(Action::popup(Popup::Picker(picker)))
            }
            EditorEvent::PickTemplate => Some(crate::popups::templates::insert_picker(ctx, n)),
            EditorEvent::Send => self.send(ctx, None),
        }
    }

    /// Saves what the editor holds as the agent's draft; `Ok(true)` if a draft is kept
    /// (a blank one is removed instead).
    pub(super) fn save_draft(&mut self, ctx: &Ctx) -> Result<bool, DeskError> {
        let Some(editor) = &mut self.editor else {
            return Ok(false);
        };
        let kept = ctx.desk.save_draft(
            &ctx.session.actor,
            self.ticket.number,
            editor.kind(),
            &editor.body(),
            &editor.typed_parties(),
        )?;
        editor.saved();
        Ok(kept.is_some())
    }

    /// The saved reply picked for the editor goes in at its cursor.
    pub(super) fn insert_template(&mut self, ctx: &Ctx, name: &str, text: &str) -> Option<Action> {
        let event = self.editor.as_mut()?.insert_text(text);
        self.editor_event(ctx, event);
        Some(Action::Info(format!(
            "inserted the saved reply {}",
            sanitize::line(name)
        )))
    }

    /// Sends the draft: the addresses checked, the text saved, then sent by the desk.
    /// A refusal keeps the editor open with the reason; a restricted customer lets an
    /// admin give a reason to send anyway.
    pub(super) fn send(&mut self, ctx: &Ctx, override_reason: Option<&str>) -> Option<Action> {
        let (desk, actor, n) = (ctx.desk, &ctx.session.actor, self.ticket.number);
        let editor = self.editor.as_mut()?;
        let kind = editor.kind();
        let parties = match editor.parties() {
            Ok(parties) => parties,
            Err(problem) => {
                editor.set_error(format!("not sent: {problem}"));
                return None;
            }
        };
        let saved = desk.save_draft(actor, n, kind, &editor.body(), &parties);
        let sent = saved.and_then(|_| desk.send_draft(actor, n, override_reason));
        match sent {
            Ok(_) => {
                self.editor = None;
                self.scroll.follow_end();
                let waiting_before = self.undoable.len();
                let result = self.reload(ctx);
                let done = match kind {
                    MessageKind::Note => format!("note added to {n}"),
                    _ if self.undoable.len() > waiting_before => {
                        format!("reply to {n} queued for sending: u to take it back before it goes")
                    }
                    _ => format!("reply to {n} queued for sending"),
                };
                let done = match override_reason {
                    Some(_) => format!("{done} (override audited)"),
                    None => done,
                };
                Some(match result {
                    Ok(_) => Action::Info(done),
                    Err(e) => Action::Error(e.to_string()),
                })
            }
            // A restricted customer: an admin may send it anyway, with a reason.
            Err(e)
                if kind == MessageKind::Outbound
                    && override_reason.is_none()
                    && ctx.session.agent.role == sealdesk_model::AgentRole::Admin
                    && matches!(desk.reply_refusal(n), Ok(Some(_))) =>
            {
                Some(Action::popup(Popup::Prompt(
                    Prompt::new(
                        "Customer restricted: reason to send anyway (audited as an override)",
                        "",
                        |reason| Action::Choice(Choice::ReplyOverride(reason)),
                    )
                    .with_detail(e.to_string()),
                )))
            }
            Err(e) => {
                if let Some(editor) = &mut self.editor {
                    editor.set_error(format!("not sent: {e}"));
                }
                None
            }
        }
    }

    /// `u`: takes back the newest reply still waiting to go out; it becomes the draft
    /// again, in the editor.
    pub(super) fn unsend(&mut self, ctx: &Ctx) -> Option<Action> {
        let n = self.ticket.number;
        let now = Timestamp::now();
        let Some(&(seq, _)) = self.undoable.iter().rev().find(|(_, due)| *due > now) else {
            return Some(Action::Error(format!(
                "nothing to take back: no reply of yours on {n} is waiting to go out"
            )));
        };
        match ctx.desk.unsend(&ctx.session.actor, n, seq) {
            Ok(draft) => {
                let _ = self.reload(ctx);
                self.editor = Some(Box::new(self.editor_for(
                    ctx,
                    MessageKind::Outbound,
                    Some(draft),
                )));
                self.update_warning(ctx);
                Some(Action::Info(format!(
                    "reply taken back: it was not sent and is your draft on {n} again"
                )))
            }
            Err(e) => {
                let _ = self.reload(ctx);
                Some(Action::Error(e.to_string()))
            }
        }
    }

    /// Files may be attached to the draft at any time (over SFTP, or `ticket reply
    /// --attach` elsewhere): the editor lists what the desk holds while it is open, the
    /// header while it is closed, and the thread's title says a draft is kept here.
    pub(super) fn reload_draft_files(&mut self, ctx: &Ctx) {
        let Ok(draft) = ctx.desk.draft(&ctx.session.actor, self.ticket.number) else {
            return;
        };
        self.draft_summary = draft.as_ref().map(|d| {
            let kind = match d.kind {
                MessageKind::Note => "note",
                _ => "reply",
            };
            match d.attachments.len() {
                0 => format!("your draft {kind}"),
                1 => format!("your draft {kind}, 1 file"),
                files => format!("your draft {kind}, {files} files"),
            }
        });
        // One list: the editor's while it is open, the header's while it is closed.
        self.draft_files = draft.map(|d| d.attachments).unwrap_or_default();
        if let Some(editor) = &mut self.editor {
            editor.set_files(self.draft_files.clone());
        }
    }

    /// Warns in the editor when another agent is replying here, or keeps a draft.
    pub(super) fn update_warning(&mut self, ctx: &Ctx) {
        let Some(editor) = &mut self.editor else {
            return;
        };
        let mut others: Vec<String> = self
            .viewers
            .iter()
            .filter(|v| v.activity == Activity::Replying)
            .map(|v| format!("{} is replying now", sanitize::line(&v.agent)))
            .collect();
        let drafting = ctx
            .desk
            .drafting_on(&ctx.session.actor, self.ticket.number)
            .unwrap_or_default();
        for name in drafting {
            let replying = self
                .viewers
                .iter()
                .any(|v| v.agent == name && v.activity == Activity::Replying);
            if !replying {
                others.push(format!("{} keeps a draft here", sanitize::line(&name)));
            }
        }
        editor.set_warning((!others.is_empty()).then(|| {
            format!(
                "careful: {} — read the thread before sending",
                others.join(", ")
            )
        }));
    }

    /// Once a second: a draft not saved for [`SAVE_AFTER`] is saved.
    pub(crate) fn tick(&mut self, ctx: &Ctx) -> Option<Action> {
        let due = self
            .editor
            .as_ref()
            .and_then(|e| e.edited())
            .is_some_and(|at| at.elapsed() >= SAVE_AFTER);
        if !due {
            return None;
        }
        match self.save_draft(ctx) {
            Ok(_) => None,
            Err(e) => {
                if let Some(editor) = &mut self.editor {
                    editor.set_error(format!("draft not saved: {e}"));
                }
                None
            }
        }
    }

    /// The session ends (quit, disconnect, shutdown): the draft is saved now.
    pub(crate) fn end(&mut self, ctx: &Ctx) {
        if self.editor.as_ref().and_then(|e| e.edited()).is_some() {
            // Nobody is left to tell if it fails; the last save stands.
            let _ = self.save_draft(ctx);
        }
    }
}
