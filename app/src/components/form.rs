//! Form fields that show the server's message beside the field it is about, and a banner for
//! messages about the whole form. Both read a server action's last result.

use leptos::{prelude::*, server_fn::ServerFn};

use crate::error::AppError;

/// The last error of an action, if any.
pub fn action_error<F>(action: ServerAction<F>) -> Signal<Option<AppError>>
where
    F: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    F::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || match action.value().get() {
        Some(Err(error)) => Some(error),
        _ => None,
    })
}

/// Empties `form` each time `action` succeeds, so a created user's password, say, does not
/// linger in the form for the next one.
pub fn reset_on_success<F>(action: ServerAction<F>, form: NodeRef<leptos::html::Form>)
where
    F: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    F::Output: Clone + Send + Sync + 'static,
{
    Effect::new(move || {
        if let Some(Ok(_)) = action.value().get() {
            #[cfg(feature = "hydrate")]
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = form;
        }
    });
}

/// A labelled input. Its error, from `error` when it names this field, is announced and
/// linked to the input for screen readers.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    /// Distinguishes the field's id when one page shows the same form several times.
    #[prop(optional, into)]
    id_suffix: String,
    /// The field the server's errors name, when the input's name differs (`input[version]`
    /// is `version`).
    #[prop(optional)]
    error_for: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    /// What the input holds at first (an edit form's current value).
    #[prop(optional, into)]
    value: String,
) -> impl IntoView {
    let key = error_for.unwrap_or(name);
    let id = field_id(key, &id_suffix);
    let message_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let message = move || error.get().and_then(|e| e.message_for(key));
    let described_by = {
        let (message_id, hint_id) = (message_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if message().is_some() {
                ids.push(message_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                autofocus=autofocus
                placeholder=placeholder
                value=value
                aria-invalid=move || message().map(|_| "true")
                aria-describedby=described_by
            />
            <p class="field-error" id=message_id role="alert">
                {message}
            </p>
        </div>
    }
}

/// The element id of the input for `field` (dots, brackets and all made id-safe).
fn field_id(field: &str, suffix: &str) -> String {
    let safe: String = field
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("field-{safe}{suffix}")
}

/// A labelled `<select>` whose error, from `error` when it names `error_for`, shows beside
/// it. `options` are (value, label) pairs; an empty value means "none chosen".
#[component]
pub fn SelectField(
    label: &'static str,
    name: &'static str,
    error_for: &'static str,
    #[prop(into)] error: Signal<Option<AppError>>,
    options: Vec<(String, String)>,
    #[prop(optional, into)] selected: String,
    #[prop(optional)] hint: Option<&'static str>,
    /// Distinguishes the field's id when one page shows the same form several times.
    #[prop(optional, into)]
    id_suffix: String,
) -> impl IntoView {
    let id = field_id(error_for, &id_suffix);
    let message_id = format!("{id}-error");
    let message = move || error.get().and_then(|e| e.message_for(error_for));
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {hint.map(|hint| view! { <p class="hint">{hint}</p> })}
            <select
                id=id
                name=name
                aria-invalid=move || message().map(|_| "true")
                aria-describedby=message_id.clone()
            >
                {options
                    .into_iter()
                    .map(|(value, text)| {
                        let chosen = value == selected;
                        view! { <option value=value selected=chosen>{text}</option> }
                    })
                    .collect_view()}
            </select>
            <p class="field-error" id=message_id.clone() role="alert">{message}</p>
        </div>
    }
}

/// A message about the whole form: an error without a field.
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || {
        error
            .get()
            .filter(|e| e.field().is_none())
            .map(|e| e.to_string())
    };
    view! {
        <p class="form-error" role="alert">
            {message}
        </p>
    }
}

/// A submit button that says when the request is on its way.
#[component]
pub fn Submit(
    label: &'static str,
    busy_label: &'static str,
    #[prop(into)] pending: Signal<bool>,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" class=class aria-busy=move || pending.get().then_some("true") disabled=move || pending.get()>
            {move || if pending.get() { busy_label } else { label }}
        </button>
    }
}

/// The window a Metrics figure counted a list's records in (`(verb, from field, to field)`,
/// such as finish or resolution time) and the tier, kept as hidden fields of the list's filter
/// form and said in words, so a list a figure links to stays that list when filtered further.
pub fn metric_window(
    (verb, from_name, to_name): (&'static str, &'static str, &'static str),
    from: Option<String>,
    to: Option<String>,
    tier: Option<String>,
) -> Option<impl IntoView> {
    if from.is_none() && to.is_none() && tier.is_none() {
        return None;
    }
    let mut words = vec![verb.to_owned()];
    if let Some(from) = &from {
        words.push(format!("from {from}"));
    }
    if let Some(to) = &to {
        words.push(format!("before {to}"));
    }
    if let Some(tier) = &tier {
        words.push(format!("in {tier} environments"));
    }
    let hidden = |name: &'static str, value: Option<String>| {
        value.map(|value| view! { <input type="hidden" name=name value=value /> })
    };
    Some(view! {
        <p class="hint filter-window">{words.join(" ")}", as Metrics counts them."</p>
        {hidden(from_name, from)}
        {hidden(to_name, to)}
        {hidden("tier", tier)}
    })
}

/// A text field of a list's filter form (a plain GET form), with its label.
pub fn filter_text(
    label: &'static str,
    name: &'static str,
    value: Option<String>,
    hint: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=format!("filter-{name}")>{label}</label>
            <input id=format!("filter-{name}") name=name value=value.unwrap_or_default() placeholder=hint />
        </div>
    }
}
