//! Attribute-mapping profiles: which target attributes an app's Entra mapping sends, which one
//! Entra matches on, which are filterable and which the app requires; and the checks a run adds
//! for them (`scimcheck run --profile NAME|FILE`).
//!
//! Six profiles are built in (`scenarios/profiles/*.yaml`): the five seed gallery apps and
//! Entra's default mapping. A run with a profile reads the server's `/Schemas` first, then adds
//! the generated scenarios of [`generate`] and leaves out group-only scenarios when the app gets
//! no groups.

pub mod discover;
pub mod generate;
pub mod init;
pub mod load;
pub mod model;
pub mod show;
pub mod target;
pub mod values;

use std::sync::Arc;

pub use discover::{Discovery, Lookup};
pub use generate::{Generated, scenarios};
pub use load::{builtin, builtin_names, builtins, load_file, load_str, resolve};
pub use model::{AttrKind, Mapped, Object, Profile};
pub use target::Target;

use crate::http::{Client, ClientOptions, TenantUrl};
use crate::scenario::Loaded;
use crate::scenario::template::ProfileValues;
use crate::scim::json::get_ci;

/// A run's scenarios with a profile applied, and what templates see of the profile.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The profile's `/Schemas` checks first, then the given scenarios the app's objects call
    /// for, then the profile's attribute and required-attribute scenarios.
    pub scenarios: Vec<Arc<Loaded>>,
    /// `{{ profile.* }}` values for [`crate::scenario::template::Generators::with_profile`].
    pub values: ProfileValues,
    /// What the server's `/Schemas` said.
    pub discovery: Discovery,
}

/// Applies a profile to a run: reads the target's `/Schemas` (one GET), drops group-only
/// scenarios for apps without groups, and adds the generated scenarios.
pub async fn prepare(
    profile: &Profile,
    target: &TenantUrl,
    credential: &crate::credential::Credential,
    options: &ClientOptions,
    scenarios: Vec<Arc<Loaded>>,
) -> Prepared {
    let mut options = options.clone();
    options.read_only = true;
    let discovery = match Client::new(target.clone(), credential.clone(), options) {
        Ok(client) => Discovery::fetch(&client).await,
        Err(e) => Discovery::unavailable(e),
    };
    apply(profile, discovery, scenarios)
}

/// [`prepare`] once the server's `/Schemas` is known.
pub fn apply(profile: &Profile, discovery: Discovery, scenarios: Vec<Arc<Loaded>>) -> Prepared {
    let generated = generate::scenarios(profile, &discovery);
    let mut generated_scenarios = generated.scenarios.into_iter().map(Arc::new);
    let mut out: Vec<Arc<Loaded>> = generated_scenarios.next().into_iter().collect();
    out.extend(
        scenarios
            .into_iter()
            .filter(|s| profile.runs_scenario(&s.scenario.tags))
            .map(|s| match with_required_attributes(profile, &s) {
                Some(adapted) => Arc::new(adapted),
                None => s,
            }),
    );
    out.extend(generated_scenarios);
    Prepared {
        scenarios: out,
        values: generated.values,
        discovery,
    }
}

/// The scenario with the profile's required attributes added to every user create
/// (`POST /Users`) and replace (`PUT /Users/...`) body that lacks them, since Entra always sends
/// them to the app; `None` when no body needed them. Bodies without a `userName` (deliberately
/// incomplete ones) are left alone.
pub fn with_required_attributes(profile: &Profile, loaded: &Loaded) -> Option<Loaded> {
    let required: Vec<&Mapped> = profile
        .attributes
        .iter()
        .filter(|a| a.required && !values::references_a_user(a))
        .collect();
    if required.is_empty() {
        return None;
    }
    let mut out = loaded.clone();
    let mut changed = false;
    for step in &mut out.scenario.steps {
        let Some(req) = &mut step.value.request else {
            continue;
        };
        let r = &mut req.value;
        let method = r.method.to_ascii_uppercase();
        let path = r.path.trim_end_matches('/');
        let is_user_write = (method == "POST" && path.eq_ignore_ascii_case("/Users"))
            || (method == "PUT" && path.to_ascii_lowercase().starts_with("/users/"));
        let Some(serde_json::Value::Object(body)) = &mut r.body else {
            continue;
        };
        if !is_user_write || get_ci(body, "userName").is_none() {
            continue;
        }
        for a in &required {
            if a.target.get(body).is_some_and(|v| !v.is_null()) {
                continue;
            }
            let value = if values::identifies(a, &profile.matching) {
                serde_json::Value::String(values::unique_template(a).into())
            } else {
                values::realistic(a, 0)
            };
            a.target.insert(body, value.clone());
            // A step that sent the attribute as null expected it to stay empty; now it is sent.
            if let Some(expect) = &mut step.value.expect
                && let Some(serde_json::Value::Object(e)) = &mut expect.value.body
                && a.target.get(e).is_some_and(serde_json::Value::is_null)
                && !values::identifies(a, &profile.matching)
            {
                a.target.insert(e, value);
            }
            if let Some(u) = &a.target.urn
                && let Some(serde_json::Value::Array(schemas)) = body.get_mut("schemas")
                && !schemas
                    .iter()
                    .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(u)))
            {
                schemas.push(serde_json::Value::String(u.clone()));
            }
            changed = true;
        }
    }
    changed.then_some(out)
}

/// The attributes a reference server must declare required to stand in for the app (the
/// profile's required attributes with plain paths), for `ServerOptions::required_attributes`.
pub fn server_required_attributes(profile: &Profile) -> Vec<String> {
    profile
        .attributes
        .iter()
        .filter(|a| a.required && !a.target.is_multi())
        .map(|a| a.path.clone())
        .collect()
}
