//! RFC 7643 schemas as data: attribute characteristics drive normalisation, PATCH, filters,
//! projection and the `/Schemas` discovery document, so what we advertise is what we enforce.

use serde_json::{Map, Value, json};
use std::sync::LazyLock;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

/// One attribute definition (RFC 7643 §7).
#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: Vec<Attribute>,
}

impl Attribute {
    fn new(name: &'static str, ty: AttrType, description: &'static str) -> Self {
        Attribute {
            name,
            ty,
            multi_valued: false,
            description,
            required: false,
            // Machine values compare exactly; dates too (their letters, T and Z, are not names).
            case_exact: matches!(
                ty,
                AttrType::Reference | AttrType::Binary | AttrType::DateTime
            ),
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: Vec::new(),
        }
    }
    fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    fn required(mut self) -> Self {
        self.required = true;
        self
    }
    fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    fn unique(mut self) -> Self {
        self.uniqueness = Uniqueness::Server;
        self
    }
    fn canonical(mut self, v: &'static [&'static str]) -> Self {
        self.canonical_values = v;
        self
    }
    fn refs(mut self, v: &'static [&'static str]) -> Self {
        self.reference_types = v;
        self
    }
    fn subs(mut self, subs: Vec<Attribute>) -> Self {
        self.sub_attributes = subs;
        self
    }

    /// Sub-attribute by name, ignoring case (RFC 7643 §2.1: attribute names are case-insensitive).
    pub fn sub(&self, name: &str) -> Option<&Attribute> {
        find(&self.sub_attributes, name)
    }

    pub fn is_complex(&self) -> bool {
        self.ty == AttrType::Complex
    }

    /// The discovery representation (RFC 7643 §7).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.ty.as_str()));
        if self.is_complex() {
            m.insert(
                "subAttributes".into(),
                Value::Array(self.sub_attributes.iter().map(Attribute::to_json).collect()),
            );
        }
        m.insert("multiValued".into(), json!(self.multi_valued));
        m.insert("description".into(), json!(self.description));
        m.insert("required".into(), json!(self.required));
        if !self.is_complex() && self.ty != AttrType::Boolean {
            m.insert("caseExact".into(), json!(self.case_exact));
        }
        if !self.canonical_values.is_empty() {
            m.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        if self.ty == AttrType::Reference {
            m.insert("referenceTypes".into(), json!(self.reference_types));
        }
        let mutability = match self.mutability {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        };
        m.insert("mutability".into(), json!(mutability));
        let returned = match self.returned {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        };
        m.insert("returned".into(), json!(returned));
        let uniqueness = match self.uniqueness {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        };
        m.insert("uniqueness".into(), json!(uniqueness));
        Value::Object(m)
    }
}

/// Finds an attribute by case-insensitive name.
pub fn find<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// A schema (RFC 7643 §7): its URN and attributes.
#[derive(Debug)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<Attribute>,
}

impl Schema {
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        find(&self.attributes, name)
    }

    pub fn to_json(&self, base_url: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(Attribute::to_json).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base_url}/Schemas/{}", self.id),
            }
        })
    }
}

/// The two resource types muster serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
}

/// A resource type: core schema, extensions, and the common attributes of RFC 7643 §3.1.
#[derive(Debug)]
pub struct ResourceType {
    pub kind: ResourceKind,
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub core: &'static Schema,
    pub extensions: Vec<&'static Schema>,
}

impl ResourceType {
    pub fn of(kind: ResourceKind) -> &'static ResourceType {
        match kind {
            ResourceKind::User => &USER_TYPE,
            ResourceKind::Group => &GROUP_TYPE,
        }
    }

    /// Extension schema whose URN equals `urn`, ignoring case.
    pub fn extension(&self, urn: &str) -> Option<&'static Schema> {
        self.extensions
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// The schema with URN `urn` (core or extension), ignoring case.
    pub fn schema(&self, urn: &str) -> Option<&'static Schema> {
        if self.core.id.eq_ignore_ascii_case(urn) {
            Some(self.core)
        } else {
            self.extension(urn)
        }
    }

    /// Splits a key like `urn:…:enterprise:2.0:User:department` into its schema and the rest,
    /// for the extension URNs this type knows (a URN prefix is matched case-insensitively).
    pub fn split_urn<'k>(&self, key: &'k str) -> Option<(&'static Schema, &'k str)> {
        std::iter::once(self.core)
            .chain(self.extensions.iter().copied())
            .find_map(|s| {
                let prefix = key.get(..s.id.len())?;
                if !prefix.eq_ignore_ascii_case(s.id) {
                    return None;
                }
                let rest = &key[s.id.len()..];
                if rest.is_empty() {
                    Some((s, rest))
                } else {
                    rest.strip_prefix(':').map(|r| (s, r))
                }
            })
    }

    pub fn to_json(&self, base_url: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.core.id,
            "schemaExtensions": self.extensions.iter()
                .map(|s| json!({"schema": s.id, "required": false}))
                .collect::<Vec<_>>(),
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base_url}/ResourceTypes/{}", self.name),
            }
        })
    }
}

/// `id`, `externalId` and `meta` (RFC 7643 §3.1), shared by every resource type.
pub static COMMON_ATTRIBUTES: LazyLock<Vec<Attribute>> = LazyLock::new(|| {
    use AttrType::*;
    vec![
        Attribute::new(
            "id",
            String,
            "Unique identifier assigned by the service provider.",
        )
        .case_exact()
        .mutability(Mutability::ReadOnly)
        .returned(Returned::Always)
        .unique(),
        Attribute::new(
            "externalId",
            String,
            "Identifier assigned by the provisioning client.",
        )
        .case_exact(),
        Attribute::new("meta", Complex, "Resource metadata.")
            .mutability(Mutability::ReadOnly)
            .subs(vec![
                Attribute::new("resourceType", String, "Name of the resource type.")
                    .case_exact()
                    .mutability(Mutability::ReadOnly),
                Attribute::new("created", DateTime, "When the resource was added.")
                    .mutability(Mutability::ReadOnly),
                Attribute::new(
                    "lastModified",
                    DateTime,
                    "When the resource was last changed.",
                )
                .mutability(Mutability::ReadOnly),
                Attribute::new("location", Reference, "URI of the resource.")
                    .mutability(Mutability::ReadOnly)
                    .refs(&["uri"]),
                Attribute::new("version", String, "Version (ETag) of the resource.")
                    .case_exact()
                    .mutability(Mutability::ReadOnly),
            ]),
    ]
});

/// The `value/display/type/primary` shape shared by most multi-valued attributes.
fn multi_valued(
    name: &'static str,
    description: &'static str,
    value: Attribute,
    types: &'static [&'static str],
) -> Attribute {
    use AttrType::*;
    Attribute::new(name, Complex, description)
        .multi()
        .subs(vec![
            value,
            Attribute::new(
                "display",
                String,
                "A human-readable name, primarily used for display purposes.",
            ),
            Attribute::new(
                "type",
                String,
                "A label indicating the attribute's function.",
            )
            .canonical(types),
            Attribute::new("primary", Boolean, "Whether this is the primary value."),
        ])
}

pub static USER: LazyLock<Schema> = LazyLock::new(|| {
    use AttrType::*;
    let s = |name, description| Attribute::new(name, String, description);
    Schema {
        id: USER_SCHEMA,
        name: "User",
        description: "User Account",
        attributes: vec![
            s(
                "userName",
                "Unique identifier for the User, typically used to sign in.",
            )
            .required()
            .unique(),
            Attribute::new("name", Complex, "The components of the user's real name.").subs(vec![
                s("formatted", "The full name, formatted for display."),
                s("familyName", "The family name of the User."),
                s("givenName", "The given name of the User."),
                s("middleName", "The middle name(s) of the User."),
                s("honorificPrefix", "The honorific prefix(es) of the User."),
                s("honorificSuffix", "The honorific suffix(es) of the User."),
            ]),
            s(
                "displayName",
                "The name of the User, suitable for display to end-users.",
            ),
            s("nickName", "The casual way to address the user."),
            Attribute::new(
                "profileUrl",
                Reference,
                "A URI to the User's online profile.",
            )
            .refs(&["external"]),
            s("title", "The user's title."),
            s(
                "userType",
                "The relationship between the organization and the user.",
            ),
            s(
                "preferredLanguage",
                "The User's preferred written or spoken language.",
            ),
            s("locale", "The User's default location, for localizing."),
            s(
                "timezone",
                "The User's time zone in the 'Olson' time zone database format.",
            ),
            Attribute::new("active", Boolean, "The User's administrative status."),
            s(
                "password",
                "The User's cleartext password; write-only, never returned.",
            )
            .mutability(Mutability::WriteOnly)
            .returned(Returned::Never),
            multi_valued(
                "emails",
                "Email addresses for the user.",
                s("value", "Email address for the user."),
                &["work", "home", "other"],
            ),
            multi_valued(
                "phoneNumbers",
                "Phone numbers for the User.",
                s("value", "Phone number of the User."),
                &["work", "home", "mobile", "fax", "pager", "other"],
            ),
            multi_valued(
                "ims",
                "Instant messaging addresses for the User.",
                s("value", "Instant messaging address for the User."),
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
            ),
            multi_valued(
                "photos",
                "URLs of photos of the User.",
                Attribute::new("value", Reference, "URL of a photo of the User.")
                    .refs(&["external"]),
                &["photo", "thumbnail"],
            ),
            Attribute::new(
                "addresses",
                Complex,
                "A physical mailing address for this User.",
            )
            .multi()
            .subs(vec![
                s(
                    "formatted",
                    "The full mailing address, formatted for display.",
                ),
                s("streetAddress", "The full street address component."),
                s("locality", "The city or locality component."),
                s("region", "The state or region component."),
                s("postalCode", "The zip code or postal code component."),
                s("country", "The country name component."),
                s("type", "A label indicating the attribute's function.")
                    .canonical(&["work", "home", "other"]),
                Attribute::new("primary", Boolean, "Whether this is the primary address."),
            ]),
            Attribute::new(
                "groups",
                Complex,
                "Groups to which the user belongs (direct membership).",
            )
            .multi()
            .mutability(Mutability::ReadOnly)
            .subs(vec![
                s("value", "The identifier of the User's group.").mutability(Mutability::ReadOnly),
                Attribute::new("$ref", Reference, "The URI of the group.")
                    .refs(&["User", "Group"])
                    .mutability(Mutability::ReadOnly),
                s("display", "The group's display name.").mutability(Mutability::ReadOnly),
                s("type", "How the membership was derived.")
                    .canonical(&["direct", "indirect"])
                    .mutability(Mutability::ReadOnly),
            ]),
            multi_valued(
                "entitlements",
                "A list of entitlements for the User.",
                s("value", "The value of an entitlement."),
                &[],
            ),
            multi_valued(
                "roles",
                "A list of roles for the User.",
                s("value", "The value of a role."),
                &[],
            ),
            multi_valued(
                "x509Certificates",
                "A list of certificates issued to the User.",
                Attribute::new("value", Binary, "The value of an X.509 certificate."),
                &[],
            ),
        ],
    }
});

pub static ENTERPRISE_USER: LazyLock<Schema> = LazyLock::new(|| {
    use AttrType::*;
    let s = |name, description| Attribute::new(name, String, description);
    Schema {
        id: ENTERPRISE_USER_SCHEMA,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attributes: vec![
            s(
                "employeeNumber",
                "Numeric or alphanumeric identifier assigned to a person.",
            ),
            s("costCenter", "Identifies the name of a cost center."),
            s("organization", "Identifies the name of an organization."),
            s("division", "Identifies the name of a division."),
            s("department", "Identifies the name of a department."),
            Attribute::new("manager", Complex, "The User's manager.").subs(vec![
                s(
                    "value",
                    "The id of the SCIM resource representing the User's manager.",
                ),
                Attribute::new(
                    "$ref",
                    Reference,
                    "The URI of the SCIM resource representing the User's manager.",
                )
                .refs(&["User"]),
                s("displayName", "The displayName of the User's manager.")
                    .mutability(Mutability::ReadOnly),
            ]),
        ],
    }
});

pub static GROUP: LazyLock<Schema> = LazyLock::new(|| {
    use AttrType::*;
    Schema {
        id: GROUP_SCHEMA,
        name: "Group",
        description: "Group",
        attributes: vec![
            Attribute::new(
                "displayName",
                String,
                "A human-readable name for the Group.",
            )
            .required()
            .unique(),
            Attribute::new("members", Complex, "A list of members of the Group.")
                .multi()
                .subs(vec![
                    Attribute::new("value", String, "Identifier of the member of this Group.")
                        .case_exact()
                        .mutability(Mutability::Immutable),
                    Attribute::new("$ref", Reference, "The URI of the member resource.")
                        .refs(&["User", "Group"])
                        .mutability(Mutability::Immutable),
                    Attribute::new("type", String, "The type of the member.")
                        .canonical(&["User", "Group"])
                        .mutability(Mutability::Immutable),
                    Attribute::new("display", String, "The member's display name.")
                        .mutability(Mutability::ReadOnly),
                ]),
        ],
    }
});

pub static USER_TYPE: LazyLock<ResourceType> = LazyLock::new(|| ResourceType {
    kind: ResourceKind::User,
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    core: &USER,
    extensions: vec![&ENTERPRISE_USER],
});

pub static GROUP_TYPE: LazyLock<ResourceType> = LazyLock::new(|| ResourceType {
    kind: ResourceKind::Group,
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    core: &GROUP,
    extensions: vec![],
});

/// Every schema served at `/Schemas`.
pub fn all_schemas() -> [&'static Schema; 3] {
    [&USER, &GROUP, &ENTERPRISE_USER]
}
