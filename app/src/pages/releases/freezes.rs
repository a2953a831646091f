//! An environment's freeze windows, on its page: everyone sees them (and whether one is in
//! force); admins add and remove them.

use leptos::prelude::*;

use crate::{
    components::form::{action_error, reset_on_success, Field, FormError, SelectField, Submit},
    domain::{releases::freeze::FreezeInput, Action},
    error::AppError,
    model::FreezeWindow,
    pages::accounts::session::me,
};

/// Adds a freeze window.
#[server(prefix = "/rpc", endpoint = "add_freeze")]
pub async fn add_freeze(
    service: String,
    environment: String,
    input: FreezeInput,
) -> Result<FreezeWindow, AppError> {
    use crate::backend::{releases, rpc};
    rpc::serve(|state, caller| async move {
        releases::add_freeze(&state, &caller, &service, &environment, &input).await
    })
    .await
}

/// Removes a freeze window.
#[server(prefix = "/rpc", endpoint = "remove_freeze")]
pub async fn remove_freeze(service: String, environment: String, id: i64) -> Result<(), AppError> {
    use crate::backend::{releases, rpc};
    rpc::serve(|state, caller| async move {
        releases::remove_freeze(&state, &caller, &service, &environment, id).await
    })
    .await
}

/// The freeze windows section; `changed` is bumped after an admin adds or removes one.
#[component]
pub fn FreezeWindows(
    service: String,
    environment: String,
    freezes: Vec<FreezeWindow>,
    add: ServerAction<AddFreeze>,
    remove: ServerAction<RemoveFreeze>,
) -> impl IntoView {
    let admin = me().is_some_and(|user| user.may(Action::ManageFreezes));
    let list = if freezes.is_empty() {
        view! { <p class="hint">"No freeze windows: deploys and switches may run at any time."</p> }
            .into_any()
    } else {
        let items = freezes
            .into_iter()
            .map(|f| {
                let state = match f.active_until {
                    Some(until) => format!("in force until {until}"),
                    None => "not in force now".to_owned(),
                };
                let (service, environment) = (service.clone(), environment.clone());
                view! {
                    <li>
                        <span class={if f.active_until.is_some() { "status status-frozen" } else { "status status-cancelled" }}>{state}</span>
                        {format!(" {}: {}", f.window, f.reason)}
                        {admin.then(|| view! {
                            <ActionForm action=remove attr:class="inline">
                                <input type="hidden" name="service" value=service />
                                <input type="hidden" name="environment" value=environment />
                                <input type="hidden" name="id" value=f.id />
                                <button type="submit" aria-label=format!("Remove the freeze window {}", f.window)>"Remove"</button>
                            </ActionForm>
                        })}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="plain">{items}</ul> }.into_any()
    };
    view! {
        <section class="card" aria-labelledby="freezes">
            <h2 id="freezes">"Freeze windows"</h2>
            <p class="hint">"During a freeze, deploys, switches and canary steps are refused; rollbacks always run."</p>
            {list}
            {admin.then(|| view! { <NewFreeze service environment add /> })}
        </section>
    }
}

#[component]
fn NewFreeze(service: String, environment: String, add: ServerAction<AddFreeze>) -> impl IntoView {
    let error = action_error(add);
    let form = NodeRef::new();
    reset_on_success(add, form);
    let kinds = vec![
        ("weekly".to_owned(), "Every week".to_owned()),
        ("once".to_owned(), "Once".to_owned()),
    ];
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .enumerate()
        .map(|(index, day)| {
            let id = format!("freeze-day-{day}");
            view! {
                <span class="checkbox">
                    <input type="checkbox" id=id.clone() name=format!("input[weekdays][{index}]") value={*day} />
                    <label for=id>{*day}</label>
                </span>
            }
        })
        .collect_view();
    view! {
        <details class="new-freeze" open=move || error.get().is_some()>
            <summary>"Add a freeze window"</summary>
            <ActionForm action=add node_ref=form attr:class="stack" attr:novalidate=true>
                <FormError error />
                <input type="hidden" name="service" value=service />
                <input type="hidden" name="environment" value=environment />
                <SelectField label="Repeats" name="input[kind]" error_for="kind" error options=kinds />
                <fieldset class="weekdays">
                    <legend>"Weekdays (every week)"</legend>
                    {days}
                    <p class="field-error" role="alert">{move || error.get().and_then(|e| e.message_for("weekdays"))}</p>
                </fieldset>
                <div class="row">
                    <Field label="From (local)" name="input[start]" error_for="start" error placeholder="09:00" hint="HH:MM, every week" />
                    <Field label="To (local)" name="input[end]" error_for="end" error placeholder="18:00" hint="earlier than From: the next day" />
                    <Field label="Time zone" name="input[time_zone]" error_for="time_zone" error placeholder="Asia/Shanghai" hint="IANA name, e.g. Europe/Berlin" />
                </div>
                <div class="row">
                    <Field label="From (UTC)" name="input[from]" error_for="from" error placeholder="2026-12-24 00:00" hint="once: YYYY-MM-DD HH:MM" />
                    <Field label="To (UTC)" name="input[to]" error_for="to" error placeholder="2026-12-27 00:00" hint="once: YYYY-MM-DD HH:MM" />
                </div>
                <Field label="Reason" name="input[reason]" error_for="reason" error required=true placeholder="peak business hours" />
                <Submit label="Add freeze window" busy_label="Adding…" pending=add.pending() class="primary" />
            </ActionForm>
        </details>
    }
}
