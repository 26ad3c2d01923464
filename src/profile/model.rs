//! The profile file model: an app's Entra attribute mapping, as serde types.

use std::fmt;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::target::Target;

/// What a profile file says, as parsed (positions kept for diagnostics).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// The application's name as the Entra gallery shows it.
    pub app: String,
    /// Where the Tenant URL and Secret Token come from, and anything else worth knowing.
    #[serde(default)]
    pub notes: String,
    /// What Entra provisions to the app: `users`, and `groups` unless group provisioning is off.
    #[serde(default = "default_objects")]
    pub objects: Spanned<Vec<Object>>,
    /// The target attribute Entra matches users on ("Match objects using this attribute").
    #[serde(default)]
    pub matching: Option<Spanned<String>>,
    /// What the app calls Entra's groups (`roles` for TrackTik); informational.
    #[serde(default)]
    pub groups_as: Option<String>,
    /// The mapped target attributes, in the portal's order.
    pub attributes: Vec<Spanned<AttributeSpec>>,
}

fn default_objects() -> Spanned<Vec<Object>> {
    Spanned::new(
        vec![Object::Users, Object::Groups],
        serde_saphyr::Location::UNKNOWN,
        serde_saphyr::Location::UNKNOWN,
    )
}

/// One row of the portal's attribute-mapping table, as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeSpec {
    /// The target attribute: `title`, `name.givenName`, `emails[type eq "work"].value`,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter`.
    pub path: Spanned<String>,
    /// The target attribute's type, as the portal shows it.
    #[serde(rename = "type", default)]
    pub kind: Option<Spanned<AttrKind>>,
    /// "Supported for filtering".
    #[serde(default)]
    pub filterable: bool,
    /// "Required by <app>".
    #[serde(default)]
    pub required: bool,
}

/// The object types Entra provisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Object {
    Users,
    Groups,
}

impl Object {
    /// `users` / `groups`.
    pub fn as_str(self) -> &'static str {
        match self {
            Object::Users => "users",
            Object::Groups => "groups",
        }
    }
}

/// Target attribute types, as the Entra portal names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AttrKind {
    String,
    Boolean,
    Integer,
    Decimal,
    DateTime,
    Reference,
    Binary,
}

impl AttrKind {
    /// The name as the portal (and the profile file) writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrKind::String => "String",
            AttrKind::Boolean => "Boolean",
            AttrKind::Integer => "Integer",
            AttrKind::Decimal => "Decimal",
            AttrKind::DateTime => "DateTime",
            AttrKind::Reference => "Reference",
            AttrKind::Binary => "Binary",
        }
    }

    /// The RFC 7643 `type` values (as `/Schemas` writes them) a target of this kind may have.
    pub fn compatible_scim_types(self) -> &'static [&'static str] {
        match self {
            AttrKind::String => &["string", "reference", "binary"],
            AttrKind::Boolean => &["boolean"],
            AttrKind::Integer => &["integer", "decimal"],
            AttrKind::Decimal => &["decimal"],
            AttrKind::DateTime => &["dateTime"],
            // Entra's `Reference` is an id of another object: `manager` is a complex attribute
            // whose `value` holds it; a plain reference or string holds it directly.
            AttrKind::Reference => &["reference", "complex", "string"],
            AttrKind::Binary => &["binary", "string"],
        }
    }

    /// The kind matching an RFC 7643 `type` (for starter profiles).
    pub fn from_scim_type(t: &str) -> AttrKind {
        match t {
            "boolean" => AttrKind::Boolean,
            "integer" => AttrKind::Integer,
            "decimal" => AttrKind::Decimal,
            "dateTime" => AttrKind::DateTime,
            "reference" | "complex" => AttrKind::Reference,
            "binary" => AttrKind::Binary,
            _ => AttrKind::String,
        }
    }
}

impl fmt::Display for AttrKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mapped target attribute, checked and analysed.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// The path exactly as the profile writes it.
    pub path: String,
    /// Its parts.
    pub target: Target,
    /// Its type.
    pub kind: AttrKind,
    /// "Supported for filtering" (the matching attribute always is).
    pub filterable: bool,
    /// "Required by the app".
    pub required: bool,
}

/// A loaded profile: an app's attribute mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The profile's name: the built-in name or the file stem (`maptician`).
    pub name: String,
    /// Where it came from (`scenarios/profiles/maptician.yaml` or the path given).
    pub file: String,
    /// Whether it is built in.
    pub builtin: bool,
    /// The application's name.
    pub app: String,
    /// Tenant URL notes.
    pub notes: String,
    /// What Entra provisions.
    pub objects: Vec<Object>,
    /// The matching attribute's path (one of `attributes`).
    pub matching: String,
    /// What the app calls groups, when it is not "groups".
    pub groups_as: Option<String>,
    /// The mapped attributes, in file order.
    pub attributes: Vec<Mapped>,
}

impl Profile {
    /// Whether Entra provisions groups to this app.
    pub fn provisions_groups(&self) -> bool {
        self.objects.contains(&Object::Groups)
    }

    /// The matching attribute.
    pub fn matching_attribute(&self) -> &Mapped {
        self.attributes
            .iter()
            .find(|a| a.path == self.matching)
            .expect("load checks that the matching attribute is mapped")
    }

    /// Whether a scenario with these tags runs for this app: group-only scenarios (tagged
    /// `groups`, not `users`) are left out when Entra provisions no groups. Scenarios tagged both
    /// (Test Connection probes /Groups even for user-only apps) always run.
    pub fn runs_scenario(&self, tags: &[String]) -> bool {
        let has = |t: &str| tags.iter().any(|x| x == t);
        self.provisions_groups() || !has("groups") || has("users")
    }
}
