//! Services, environments and slots: the names, tiers and strategies an admin sets up, parsed
//! once at the edge (see PRODUCT.md, "Words").

use serde::{Deserialize, Serialize};

use super::{words::bounded_text, FieldError, FieldErrors};
use crate::word_enum;

word_enum! {
    /// How important an environment is; the delivery metrics count `production` by default.
    Tier, "tier" {
        Production = "production",
        Staging = "staging",
        Development = "development",
    }
}

word_enum! {
    /// How a version reaches an environment.
    Strategy, "strategy" {
        BlueGreen = "blue_green",
        Rolling = "rolling",
        Canary = "canary",
    }
}

word_enum! {
    /// One of a blue-green environment's two colours.
    SlotColor, "slot" {
        Blue = "blue",
        Green = "green",
    }
}

impl Strategy {
    /// As people read it: "blue-green", "rolling", "canary".
    pub fn label(self) -> &'static str {
        match self {
            Strategy::BlueGreen => "blue-green",
            Strategy::Rolling => "rolling",
            Strategy::Canary => "canary",
        }
    }
}

impl SlotColor {
    /// The other colour: the idle slot when this one is live.
    pub fn other(self) -> Self {
        match self {
            SlotColor::Blue => SlotColor::Green,
            SlotColor::Green => SlotColor::Blue,
        }
    }
}

/// A service or environment name as it appears in URLs: 1–64 lowercase letters, digits, `-`,
/// `_` and `.`, starting with a letter or digit (`china-car-parts`, `production`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Name(String);

impl Name {
    pub const MAX_LEN: usize = 64;

    /// Parses a name typed for `field` (`name`, `service`, `environment`…).
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let name = input.trim();
        let error = |message: &str| Err(FieldError::new(field, message));
        if name.is_empty() {
            return error("Enter a name.");
        }
        if name.chars().count() > Self::MAX_LEN {
            return error("Use at most 64 characters.");
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        {
            return error("Use only lowercase letters, digits, '-', '_' and '.'.");
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return error("Start with a letter or a digit.");
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest service description.
pub const MAX_DESCRIPTION: usize = 500;
/// The longest owner team name.
pub const MAX_TEAM: usize = 100;
/// The longest URL kept (upstreams, health checks, CI runs).
pub const MAX_URL: usize = 2000;

/// An `http://` or `https://` address with a host, as typed for `field`.
pub fn parse_http_url(field: &str, input: &str) -> Result<String, FieldError> {
    let url = bounded_text(field, input, MAX_URL)?;
    let error = || {
        Err(FieldError::new(
            field,
            "Enter an address starting with http:// or https://, such as http://10.0.0.5:8080.",
        ))
    };
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return error();
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || url.chars().any(char::is_whitespace) {
        return error();
    }
    Ok(url)
}

/// A new service, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceInput {
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::name))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::text::<500>))]
    pub description: String,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::text::<100>))]
    pub owner_team: String,
}

/// A new service, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewService {
    pub name: Name,
    pub description: String,
    pub owner_team: String,
}

impl ServiceInput {
    /// Checks every field, reporting every problem at once.
    pub fn parse(&self) -> Result<NewService, FieldErrors> {
        crate::check_fields! {
            name = Name::parse("name", &self.name),
            description = bounded_text("description", &self.description, MAX_DESCRIPTION),
            owner_team = bounded_text("owner_team", &self.owner_team, MAX_TEAM),
        }
        Ok(NewService {
            name,
            description,
            owner_team,
        })
    }
}

/// One slot's addresses, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlotInput {
    pub upstream: String,
    pub health_url: String,
}

/// Both slots of a blue-green environment, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlotsInput {
    pub blue: SlotInput,
    pub green: SlotInput,
}

/// A new environment, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvironmentInput {
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::name))]
    pub name: String,
    #[cfg_attr(feature = "ssr", schema(value_type = crate::domain::catalog::Tier))]
    pub tier: String,
    #[cfg_attr(feature = "ssr", schema(value_type = crate::domain::catalog::Strategy))]
    pub strategy: String,
    #[serde(default)]
    pub slots: Option<SlotsInput>,
}

/// One slot's addresses, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSlot {
    pub color: SlotColor,
    pub upstream: String,
    pub health_url: String,
}

/// A new environment, checked: blue-green ones have both slots, others none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEnvironment {
    pub name: Name,
    pub tier: Tier,
    pub strategy: Strategy,
    pub slots: Vec<NewSlot>,
}

impl EnvironmentInput {
    /// Checks every field, the slots' too, reporting every problem at once.
    pub fn parse(&self) -> Result<NewEnvironment, FieldErrors> {
        let strategy = Strategy::parse("strategy", &self.strategy);
        let slots = match &strategy {
            Ok(strategy) => self.parse_slots(*strategy),
            Err(_) => Ok(Vec::new()),
        };
        crate::check_fields! {
            name = Name::parse("name", &self.name),
            tier = Tier::parse("tier", &self.tier),
            strategy = strategy,
            slots = slots,
        }
        Ok(NewEnvironment {
            name,
            tier,
            strategy,
            slots,
        })
    }
}

impl EnvironmentInput {
    /// Blue-green: both slots, every address checked; other strategies: none.
    fn parse_slots(&self, strategy: Strategy) -> Result<Vec<NewSlot>, FieldErrors> {
        match (strategy, &self.slots) {
            (Strategy::BlueGreen, Some(slots)) => both_slots(slots),
            (Strategy::BlueGreen, None) => Err(FieldError::new(
                "slots",
                "A blue-green environment needs a blue and a green slot, each with an upstream and a health URL.",
            )
            .into()),
            (_, Some(_)) => Err(FieldError::new(
                "slots",
                "Only blue-green environments have slots; leave them out or choose the blue-green strategy (blue_green).",
            )
            .into()),
            (_, None) => Ok(Vec::new()),
        }
    }
}

/// Changes to a service, as typed: what is given is replaced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServicePatch {
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::optional_text::<500>))]
    pub description: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(schema_with = crate::domain::schema::optional_text::<100>))]
    pub owner_team: Option<String>,
}

/// Changes to a service, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceChange {
    pub description: Option<String>,
    pub owner_team: Option<String>,
}

impl ServicePatch {
    pub fn parse(&self) -> Result<ServiceChange, FieldError> {
        Ok(ServiceChange {
            description: self
                .description
                .as_deref()
                .map(|d| bounded_text("description", d, MAX_DESCRIPTION))
                .transpose()?,
            owner_team: self
                .owner_team
                .as_deref()
                .map(|t| bounded_text("owner_team", t, MAX_TEAM))
                .transpose()?,
        })
    }
}

/// Changes to an environment, as typed: its tier, and for blue-green its slots' addresses.
/// Name and strategy stay: deployments and operations refer to them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnvironmentPatch {
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<crate::domain::catalog::Tier>))]
    pub tier: Option<String>,
    #[serde(default)]
    pub slots: Option<SlotsInput>,
}

/// Changes to an environment, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvironmentChange {
    pub tier: Option<Tier>,
    pub slots: Vec<NewSlot>,
}

impl EnvironmentPatch {
    /// Checks the changes to an environment with `strategy`.
    pub fn parse(&self, strategy: Strategy) -> Result<EnvironmentChange, FieldErrors> {
        let slots = match (&self.slots, strategy) {
            (None, _) => Ok(Vec::new()),
            (Some(slots), Strategy::BlueGreen) => both_slots(slots),
            (Some(_), _) => Err(FieldErrors::from(FieldError::new(
                "slots",
                "Only blue-green environments have slots; leave them out.",
            ))),
        };
        crate::check_fields! {
            tier = self.tier.as_deref().map(|t| Tier::parse("tier", t)).transpose(),
            slots = slots,
        }
        Ok(EnvironmentChange { tier, slots })
    }
}

/// Both slots, every address checked.
fn both_slots(slots: &SlotsInput) -> Result<Vec<NewSlot>, FieldErrors> {
    crate::check_fields! {
        blue = parse_slot(SlotColor::Blue, &slots.blue),
        green = parse_slot(SlotColor::Green, &slots.green),
    }
    Ok(vec![blue, green])
}

fn parse_slot(color: SlotColor, input: &SlotInput) -> Result<NewSlot, FieldErrors> {
    let field = |part: &str| format!("slots.{color}.{part}");
    crate::check_fields! {
        upstream = parse_http_url(&field("upstream"), &input.upstream),
        health_url = parse_http_url(&field("health_url"), &input.health_url),
    }
    Ok(NewSlot {
        color,
        upstream,
        health_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(upstream: &str) -> SlotInput {
        SlotInput {
            upstream: upstream.into(),
            health_url: format!("{upstream}/health"),
        }
    }

    #[test]
    fn names_are_url_safe_slugs() {
        assert_eq!(
            Name::parse("name", " china-car-parts ").unwrap().as_str(),
            "china-car-parts"
        );
        for bad in ["", "Prod", "a b", "-x", &"x".repeat(65), "über"] {
            assert_eq!(
                Name::parse("service", bad).unwrap_err().field,
                "service",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn urls_need_a_scheme_and_a_host() {
        assert!(parse_http_url("u", "http://10.0.0.5:8080").is_ok());
        assert!(parse_http_url("u", "https://a.example/health?x=1").is_ok());
        for bad in [
            "",
            "10.0.0.5",
            "ftp://x",
            "http://",
            "http:// x",
            "http:///path",
        ] {
            assert!(parse_http_url("u", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn patches_change_only_what_they_name_and_check_it() {
        let patch = EnvironmentPatch {
            tier: Some("staging".into()),
            slots: None,
        };
        let change = patch.parse(Strategy::Rolling).unwrap();
        assert_eq!(change.tier, Some(Tier::Staging));
        assert!(change.slots.is_empty());
        let with_slots = EnvironmentPatch {
            tier: None,
            slots: Some(SlotsInput {
                blue: slot("http://10.0.0.1:80"),
                green: slot("http://10.0.0.3:80"),
            }),
        };
        assert_eq!(
            with_slots.parse(Strategy::BlueGreen).unwrap().slots.len(),
            2
        );
        assert_eq!(
            with_slots.parse(Strategy::Canary).unwrap_err().0[0].field,
            "slots"
        );
        let bad = ServicePatch {
            description: Some("d".repeat(501)),
            owner_team: None,
        };
        assert_eq!(bad.parse().unwrap_err().field, "description");
    }

    #[test]
    fn blue_green_environments_need_both_slots_and_others_none() {
        let mut input = EnvironmentInput {
            name: "production".into(),
            tier: "production".into(),
            strategy: "blue_green".into(),
            slots: None,
        };
        assert_eq!(input.parse().unwrap_err().0[0].field, "slots");
        input.slots = Some(SlotsInput {
            blue: slot("http://10.0.0.1:80"),
            green: slot("nonsense"),
        });
        assert_eq!(
            input.parse().unwrap_err().0[0].field,
            "slots.green.upstream"
        );
        input.slots = Some(SlotsInput {
            blue: slot("http://10.0.0.1:80"),
            green: slot("http://10.0.0.2:80"),
        });
        let parsed = input.parse().unwrap();
        assert_eq!(parsed.slots.len(), 2);
        assert_eq!(parsed.slots[1].color, SlotColor::Green);
        input.strategy = "rolling".into();
        assert_eq!(input.parse().unwrap_err().0[0].field, "slots");
        input.slots = None;
        assert!(input.parse().unwrap().slots.is_empty());
        input.tier = "prod".into();
        assert_eq!(input.parse().unwrap_err().0[0].field, "tier");
    }
}
