//! Owning the terminal: raw mode and the alternate screen while the UI runs, restored on exit and
//! on panic (so a crash never leaves the user's shell unusable).

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use crossterm::terminal::supports_keyboard_enhancement;
use ratatui::DefaultTerminal;
use std::io::{self, stdout};

/// Restores the terminal when dropped.
pub struct TerminalGuard {
    mouse: bool,
    keyboard: bool,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen; asks for unambiguous keys (so Shift-Enter differs
    /// from Enter) where the terminal supports it.
    pub fn enter(mouse: bool) -> io::Result<(DefaultTerminal, TerminalGuard)> {
        let keyboard = matches!(supports_keyboard_enhancement(), Ok(true));
        // ratatui's hook leaves raw mode and the alternate screen; ours first undoes the extras.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            undo_extras(mouse, keyboard);
            previous(info);
        }));
        let terminal = ratatui::try_init()?;
        let guard = TerminalGuard { mouse, keyboard };
        let mut out = stdout();
        execute!(out, EnableBracketedPaste)?;
        if mouse {
            execute!(out, EnableMouseCapture)?;
        }
        if keyboard {
            execute!(
                out,
                PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
            )?;
        }
        Ok((terminal, guard))
    }
}

fn undo_extras(mouse: bool, keyboard: bool) {
    let mut out = stdout();
    // Best effort: the terminal may already be gone.
    let _ = execute!(out, DisableBracketedPaste);
    if keyboard {
        let _ = execute!(out, PopKeyboardEnhancementFlags);
    }
    if mouse {
        let _ = execute!(out, DisableMouseCapture);
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        undo_extras(self.mouse, self.keyboard);
        ratatui::restore();
    }
}
