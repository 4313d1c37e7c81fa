//! Setup of a model provider: pick a preset, give it a key (typed into a hidden field, or an
//! environment variable the core found, offered but never used without the user choosing it),
//! save and test it with one real call, then pick the core's default model. Shown instead of the
//! chat when the core has no provider, and opened again with `/setup`.

mod view;

pub use view::render;

use super::model_pick::{ModelPicker, Pick};
use crate::action::{self, Action};
use crate::model::{KeySource, ProviderSetup};
use crate::secret::Secret;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pryx_protocol::api::{ModelView, ProviderPreset, ProviderTestReport, ProviderView};

/// Where the setup is.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Choosing a preset (the list may still be loading).
    Presets,
    /// The key of a preset that needs one. `use_env` is the user's choice of the variable the
    /// core found; it starts false, so nothing is used without a key press.
    Key { use_env: bool, key: Secret },
    /// Where a local provider listens (no key needed).
    Endpoint { url: String },
    /// The provider is being saved.
    Saving,
    /// The test call runs.
    Testing,
    /// What the test call answered.
    Tested(ProviderTestReport),
    /// Saving or testing failed before the provider could answer (the core refused or is gone).
    Failed { what: String, error: String },
    /// Choosing the default model (`None` while the list loads).
    Models(Option<ModelPicker>),
    /// The provider lists no models (a local server): its name is typed.
    ModelName { name: String },
    /// The default model is being set; the list stays for going back if that fails.
    Finishing { model: String, picker: ModelPicker },
}

/// What a key in setup asks of the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stay(Vec<Action>),
    /// Leave setup without finishing it.
    Skip,
    /// Setup is complete without a default model to set (the provider lists none).
    Done,
    Quit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SetupState {
    /// `None` until the core sent them.
    pub presets: Option<Vec<ProviderPreset>>,
    pub selected: usize,
    pub step: Step,
    /// Why the current step cannot go on, shown in it.
    pub error: Option<String>,
    /// Opened because the core has no provider (rather than by `/setup`).
    pub first_run: bool,
    /// The test report of the provider being set up, kept for going back from the model list.
    report: Option<ProviderTestReport>,
}

impl SetupState {
    /// A setup waiting for its presets; perform the returned action to load them.
    pub fn open(first_run: bool) -> (Self, Action) {
        let s = SetupState {
            presets: None,
            selected: 0,
            step: Step::Presets,
            error: None,
            first_run,
            report: None,
        };
        (s, Action::LoadPresets)
    }

    /// The preset chosen (or under the cursor on the first step).
    pub fn preset(&self) -> Option<&ProviderPreset> {
        self.presets.as_ref()?.get(self.selected)
    }

    pub fn on_presets(&mut self, presets: Vec<ProviderPreset>) {
        // A late second answer must not move the choice under a later step.
        if self.step != Step::Presets {
            return;
        }
        // A preset whose key is already in the environment is the likely choice.
        self.selected = presets
            .iter()
            .position(|p| p.env_found.is_some())
            .unwrap_or(0);
        self.presets = Some(presets);
        self.error = None;
    }

    pub fn on_saved(&mut self, p: &ProviderView) -> Vec<Action> {
        if self.step != Step::Saving || self.preset().map(|x| &x.id) != Some(&p.id) {
            return vec![];
        }
        self.step = Step::Testing;
        vec![self.test_action()]
    }

    pub fn on_tested(&mut self, id: &str, report: ProviderTestReport) {
        if self.step != Step::Testing || self.preset().map(|x| x.id.as_str()) != Some(id) {
            return;
        }
        self.report = Some(report.clone());
        self.step = Step::Tested(report);
    }

    /// Whether a model list of `provider` is the one the model step waits for.
    pub fn wants_models(&self, provider: Option<&str>) -> bool {
        self.step == Step::Models(None)
            && provider.is_some()
            && provider == self.preset().map(|p| p.id.as_str())
    }

    pub fn on_models(&mut self, models: Vec<ModelView>) {
        let suggested = self.preset().and_then(|p| p.suggested_model.clone());
        if models.is_empty() && suggested.is_none() {
            self.step = Step::ModelName {
                name: String::new(),
            };
            return;
        }
        let picker = ModelPicker::new(models, suggested.as_deref(), None);
        self.step = Step::Models(Some(picker));
    }

    /// Whether setup is waiting for `set_default_model`.
    pub fn finishing(&self) -> bool {
        matches!(self.step, Step::Finishing { .. })
    }

    /// A call setup made failed: shown in the step it belongs to. `false` when it was not ours.
    pub fn on_failed(&mut self, what: &str, error: &str) -> bool {
        match (&self.step, what) {
            (Step::Presets, action::LIST_PRESETS) => self.error = Some(error.to_string()),
            (Step::Saving, action::SAVE_PROVIDER) | (Step::Testing, action::TEST_PROVIDER) => {
                self.step = Step::Failed {
                    what: what.to_string(),
                    error: error.to_string(),
                };
            }
            (Step::Models(None), action::LIST_MODELS) => {
                self.step = Step::ModelName {
                    name: String::new(),
                };
                self.error = Some(format!("Could not list the models: {error}"));
            }
            (Step::Finishing { picker, model }, action::SET_DEFAULT_MODEL) => {
                self.step = if picker.models.is_empty() {
                    Step::ModelName {
                        name: model
                            .split_once('/')
                            .map_or(model.as_str(), |(_, m)| m)
                            .to_string(),
                    }
                } else {
                    Step::Models(Some(picker.clone()))
                };
                self.error = Some(format!("Could not set the default model: {error}"));
            }
            _ => return false,
        }
        true
    }

    /// Pasted text goes into the field of the step (the key stays hidden).
    pub fn on_paste(&mut self, text: &str) {
        match &mut self.step {
            Step::Key { use_env, key } => {
                *use_env = false;
                key.push_pasted(text);
            }
            Step::Endpoint { url } => url.push_str(text.trim()),
            Step::ModelName { name } => name.push_str(text.trim()),
            _ => {}
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return Outcome::Quit;
        }
        // Control and Alt chords are never text for the fields.
        let chord = ctrl || key.modifiers.contains(KeyModifiers::ALT);
        if key.code == KeyCode::Esc {
            return self.back();
        }
        let actions = match &self.step {
            Step::Presets => self.presets_key(&key),
            Step::Key { .. } => self.key_key(&key, chord),
            Step::Endpoint { .. } => self.endpoint_key(&key, chord),
            Step::Saving | Step::Testing | Step::Finishing { .. } => vec![],
            Step::Tested(r) => {
                let ok = r.ok;
                match key.code {
                    KeyCode::Enter if ok => self.go_to_models(),
                    KeyCode::Enter => self.go_to_credentials(),
                    KeyCode::Char('r') => {
                        self.step = Step::Testing;
                        vec![self.test_action()]
                    }
                    _ => vec![],
                }
            }
            Step::Failed { .. } => match key.code {
                KeyCode::Enter => self.go_to_credentials(),
                _ => vec![],
            },
            Step::Models(_) => return self.models_key(&key),
            Step::ModelName { .. } => self.model_name_key(&key, chord),
        };
        Outcome::Stay(actions)
    }

    /// Esc: one step back; on the first step, leave setup.
    fn back(&mut self) -> Outcome {
        self.error = None;
        match &self.step {
            Step::Presets => return Outcome::Skip,
            Step::Key { .. } | Step::Endpoint { .. } => self.step = Step::Presets,
            Step::Testing | Step::Tested(_) | Step::Failed { .. } => {
                let _ = self.go_to_credentials();
            }
            Step::Models(_) | Step::ModelName { .. } => {
                self.step = match self.report.clone() {
                    Some(r) => Step::Tested(r),
                    None => Step::Presets,
                }
            }
            Step::Saving | Step::Finishing { .. } => {}
        }
        Outcome::Stay(vec![])
    }

    fn presets_key(&mut self, key: &KeyEvent) -> Vec<Action> {
        let len = self.presets.as_ref().map_or(0, Vec::len);
        if super::navigate(&mut self.selected, len, key) {
            return vec![];
        }
        if key.code == KeyCode::Enter {
            match self.presets {
                None => return vec![Action::LoadPresets],
                Some(_) => return self.go_to_credentials(),
            }
        }
        if key.code == KeyCode::Char('r') && self.presets.is_none() {
            return vec![Action::LoadPresets];
        }
        vec![]
    }

    /// To the step that asks for what the preset needs: a key, or where it listens.
    fn go_to_credentials(&mut self) -> Vec<Action> {
        self.error = None;
        let Some(p) = self.preset() else {
            return vec![];
        };
        self.step = if p.needs_key {
            Step::Key {
                use_env: false,
                key: Secret::default(),
            }
        } else {
            Step::Endpoint {
                url: p.base_url.clone(),
            }
        };
        vec![]
    }

    fn key_key(&mut self, key: &KeyEvent, chord: bool) -> Vec<Action> {
        let env_found = self.preset().and_then(|p| p.env_found.clone());
        let Step::Key {
            use_env,
            key: typed,
        } = &mut self.step
        else {
            return vec![];
        };
        let source = match key.code {
            KeyCode::Up | KeyCode::Down | KeyCode::Tab | KeyCode::BackTab
                if env_found.is_some() =>
            {
                *use_env = !*use_env;
                None
            }
            KeyCode::Char('u') if chord => {
                typed.clear();
                None
            }
            KeyCode::Char(c) if !chord => {
                *use_env = false;
                typed.push(c);
                None
            }
            KeyCode::Backspace => {
                typed.pop();
                None
            }
            KeyCode::Enter if *use_env => env_found.clone().map(KeySource::Env),
            KeyCode::Enter => {
                let k = typed.trimmed();
                if k.is_empty() {
                    self.error = Some(match &env_found {
                        Some(var) => format!("Paste the key first, or choose the key in ${var}."),
                        None => "Paste the key first.".to_string(),
                    });
                    return vec![];
                }
                Some(KeySource::Typed(k))
            }
            _ => None,
        };
        self.error = None;
        match source {
            Some(source) => self.save(source, None),
            None => vec![],
        }
    }

    fn endpoint_key(&mut self, key: &KeyEvent, chord: bool) -> Vec<Action> {
        let Step::Endpoint { url } = &mut self.step else {
            return vec![];
        };
        match key.code {
            KeyCode::Char('u') if chord => url.clear(),
            KeyCode::Char(c) if !chord => url.push(c),
            KeyCode::Backspace => {
                url.pop();
            }
            KeyCode::Enter => {
                let url = url.trim().to_string();
                if url.is_empty() {
                    self.error = Some("Type the address it listens on.".to_string());
                    return vec![];
                }
                let changed = self.preset().is_some_and(|p| p.base_url != url);
                return self.save(KeySource::None, changed.then_some(url));
            }
            _ => {}
        }
        self.error = None;
        vec![]
    }

    fn save(&mut self, key: KeySource, base_url: Option<String>) -> Vec<Action> {
        let Some(p) = self.preset() else {
            return vec![];
        };
        let default_model = p
            .suggested_model
            .as_deref()
            .map(|m| bare_model(&p.id, m).to_string());
        let setup = ProviderSetup {
            id: p.id.clone(),
            preset: p.id.clone(),
            key,
            base_url,
            default_model,
        };
        self.error = None;
        self.report = None;
        self.step = Step::Saving;
        vec![Action::SaveProvider(setup)]
    }

    fn test_action(&self) -> Action {
        Action::TestProvider {
            id: self.preset().map(|p| p.id.clone()).unwrap_or_default(),
            model: None,
        }
    }

    fn go_to_models(&mut self) -> Vec<Action> {
        self.error = None;
        self.step = Step::Models(None);
        vec![Action::LoadModels {
            provider: self.preset().map(|p| p.id.clone()),
        }]
    }

    fn models_key(&mut self, key: &KeyEvent) -> Outcome {
        let suggested = self.suggested_id();
        let Step::Models(Some(picker)) = &mut self.step else {
            return Outcome::Stay(vec![]);
        };
        let model = match picker.handle_key(key) {
            Pick::Chosen(m) => m,
            // Nothing listed: the preset's suggestion, or finish without a default.
            Pick::Stay | Pick::Ignored
                if key.code == KeyCode::Enter && picker.models.is_empty() =>
            {
                match suggested {
                    Some(m) => m,
                    None => return Outcome::Done,
                }
            }
            Pick::Ignored if key.code == KeyCode::Char('r') => {
                return Outcome::Stay(self.go_to_models());
            }
            Pick::Stay | Pick::Ignored => return Outcome::Stay(vec![]),
        };
        let picker = picker.clone();
        self.error = None;
        self.step = Step::Finishing {
            model: model.clone(),
            picker,
        };
        Outcome::Stay(vec![Action::SetDefaultModel { model }])
    }

    fn model_name_key(&mut self, key: &KeyEvent, chord: bool) -> Vec<Action> {
        let provider = self.preset().map(|p| p.id.clone()).unwrap_or_default();
        let Step::ModelName { name } = &mut self.step else {
            return vec![];
        };
        match key.code {
            KeyCode::Char('u') if chord => name.clear(),
            KeyCode::Char(c) if !chord => name.push(c),
            KeyCode::Backspace => {
                name.pop();
            }
            KeyCode::Enter => {
                let typed = name.trim().to_string();
                if typed.is_empty() {
                    self.error = Some("Type the name of a model it serves.".to_string());
                    return vec![];
                }
                let model = format!("{provider}/{}", bare_model(&provider, &typed));
                self.error = None;
                self.step = Step::Finishing {
                    model: model.clone(),
                    picker: ModelPicker::new(vec![], None, None),
                };
                return vec![Action::SetDefaultModel { model }];
            }
            _ => return vec![],
        }
        self.error = None;
        vec![]
    }

    /// The preset's suggested model as `provider/model`.
    fn suggested_id(&self) -> Option<String> {
        let p = self.preset()?;
        let m = p.suggested_model.as_deref()?;
        Some(format!("{}/{}", p.id, bare_model(&p.id, m)))
    }
}

/// `model` without a leading `provider/`.
fn bare_model<'a>(provider: &str, model: &'a str) -> &'a str {
    model
        .strip_prefix(provider)
        .and_then(|m| m.strip_prefix('/'))
        .unwrap_or(model)
}

#[cfg(test)]
pub(crate) mod tests;
