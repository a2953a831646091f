//! Which deployments a list shows: the filter parsed from a query string or a form, and the
//! keyset cursor that continues a page without counting rows (fast at any depth).

use super::{
    catalog::{Name, Tier},
    deployments::DeploymentStatus,
    words::bounded_text,
    FieldError, Timestamp,
};
use crate::model::DeploymentFilter;

/// Rows per page unless asked otherwise, and the most a caller may ask for.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// Where the previous page ended: the last row's start time and id (the list's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub started_at: Timestamp,
    pub id: i64,
}

impl Cursor {
    /// The opaque text clients pass back.
    pub fn encode(self) -> String {
        format!("{}.{}", self.started_at.millis(), self.id)
    }

    pub fn decode(text: &str) -> Result<Self, FieldError> {
        let error = || {
            FieldError::new(
                "cursor",
                "This cursor was not made by Switchyard; pass next_cursor from the previous page unchanged.",
            )
        };
        let (at, id) = text.split_once('.').ok_or_else(error)?;
        Ok(Self {
            started_at: Timestamp(at.parse().map_err(|_| error())?),
            id: id.parse().map_err(|_| error())?,
        })
    }
}

/// A deployment filter, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeploymentQuery {
    pub service: Option<Name>,
    pub environment: Option<Name>,
    pub status: Option<DeploymentStatus>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub finished_from: Option<Timestamp>,
    pub finished_to: Option<Timestamp>,
    pub tier: Option<Tier>,
    /// Lowercase text the version or commit SHA starts with.
    pub prefix: Option<String>,
    pub limit: u32,
    pub after: Option<Cursor>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Two optional times that, when both are given, must be in order.
fn range(
    from: &Option<String>,
    to: &Option<String>,
    (from_field, to_field): (&str, &str),
) -> Result<(Option<Timestamp>, Option<Timestamp>), FieldError> {
    let from = given(from)
        .map(|t| Timestamp::parse(from_field, t))
        .transpose()?;
    let to = given(to)
        .map(|t| Timestamp::parse(to_field, t))
        .transpose()?;
    if let (Some(from), Some(to)) = (from, to) {
        if to <= from {
            return Err(FieldError::new(
                to_field,
                "The end of the range is before its start.",
            ));
        }
    }
    Ok((from, to))
}

impl DeploymentFilter {
    pub fn parse(&self) -> Result<DeploymentQuery, FieldError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(FieldError::new(
                "limit",
                format!("Ask for 1 to {MAX_LIMIT} deployments per page."),
            ));
        }
        let (from, to) = range(&self.from, &self.to, ("from", "to"))?;
        let (finished_from, finished_to) = range(
            &self.finished_from,
            &self.finished_to,
            ("finished_from", "finished_to"),
        )?;
        Ok(DeploymentQuery {
            service: given(&self.service)
                .map(|s| Name::parse("service", s))
                .transpose()?,
            environment: given(&self.environment)
                .map(|s| Name::parse("environment", s))
                .transpose()?,
            status: given(&self.status)
                .map(|s| DeploymentStatus::parse("status", s))
                .transpose()?,
            from,
            to,
            finished_from,
            finished_to,
            tier: given(&self.tier)
                .map(|t| Tier::parse("tier", t))
                .transpose()?,
            prefix: given(&self.q)
                .map(|q| bounded_text("q", q, 100))
                .transpose()?
                .map(|q| q.to_lowercase()),
            limit,
            after: given(&self.cursor).map(Cursor::decode).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let cursor = Cursor {
            started_at: Timestamp(1_795_776_300_000),
            id: 42,
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        for bad in ["", "42", "a.b", "1.2.3"] {
            assert_eq!(Cursor::decode(bad).unwrap_err().field, "cursor", "{bad:?}");
        }
    }

    #[test]
    fn filters_parse_and_name_bad_fields() {
        let empty = DeploymentFilter::default().parse().unwrap();
        assert_eq!(empty.limit, DEFAULT_LIMIT);
        assert_eq!(empty.service, None);
        let full = DeploymentFilter {
            service: Some("api".into()),
            status: Some("failed".into()),
            q: Some(" ABC ".into()),
            from: Some("2026-11-01T00:00:00Z".into()),
            limit: Some(10),
            ..DeploymentFilter::default()
        }
        .parse()
        .unwrap();
        assert_eq!(full.prefix.as_deref(), Some("abc"));
        assert_eq!(full.status, Some(DeploymentStatus::Failed));
        let bad = |filter: DeploymentFilter| filter.parse().unwrap_err().field;
        assert_eq!(
            bad(DeploymentFilter {
                limit: Some(0),
                ..Default::default()
            }),
            "limit"
        );
        assert_eq!(
            bad(DeploymentFilter {
                limit: Some(201),
                ..Default::default()
            }),
            "limit"
        );
        assert_eq!(
            bad(DeploymentFilter {
                status: Some("ok".into()),
                ..Default::default()
            }),
            "status"
        );
        assert_eq!(
            bad(DeploymentFilter {
                to: Some("x".into()),
                ..Default::default()
            }),
            "to"
        );
        assert_eq!(
            bad(DeploymentFilter {
                from: Some("2026-11-02T00:00:00Z".into()),
                to: Some("2026-11-01T00:00:00Z".into()),
                ..Default::default()
            }),
            "to"
        );
    }
}
