//! What a GraphQL request may ask for, measured on its parsed document before anything runs.
//!
//! Aliases let one small query name the same list many times (`a1: adminAuditLog(limit: 500)
//! … a490: …`): 20 KB of query, 245,000 rows, a response of 100 MB. So before execution, and
//! so before any database work, the selected operation is walked (fragments included) and
//! refused with `BAD_USER_INPUT`, naming the limit, when it has
//! - more than [`MAX_ALIASES`] aliased fields,
//! - more than [`MAX_ROWS`] rows in all its lists (each list field counts its `limit`, or the
//!   default page, or an estimate for lists without one), or
//! - a cost above [`MAX_COST`]: one per selected field, where a list field's selection counts
//!   once per row it may return (`limit` × the cost of one row).
//!
//! The schema's own depth and (unweighted) complexity limits stay as a second wall. This
//! module reads only the request; it knows nothing of the services.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, OperationDefinition, Selection,
    SelectionSet,
};
use async_graphql::{Name, Positioned, Variables};
use async_graphql_value::Value;

/// Aliased fields per request.
pub const MAX_ALIASES: usize = 30;
/// Rows in all the lists of one request: two full pages of the audit log.
pub const MAX_ROWS: u64 = 1_000;
/// Weighted cost of one request (a full audit page with every field is about 10,000).
pub const MAX_COST: u64 = 25_000;
/// Fragment nesting followed before the walk gives up (a fragment cycle is invalid anyway,
/// and execution refuses it).
const MAX_FRAGMENT_DEPTH: usize = 32;

/// The list fields of the schema and the rows each may return: its `limit` argument with
/// its default, or an estimate for a list without one.
fn list_rows(field: &str) -> Option<ListRows> {
    match field {
        "adminAuditLog" | "adminOauthClients" | "adminApiResources" | "adminWebhookDeliveries" => {
            Some(ListRows::Limit { default: 50 })
        }
        // A handful per organization; counted generously.
        "adminApiKeys" | "adminWebhooks" => Some(ListRows::Estimate(50)),
        _ => None,
    }
}

enum ListRows {
    Limit { default: u64 },
    Estimate(u64),
}

/// What the selected operation asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cost {
    pub aliases: usize,
    pub rows: u64,
    pub cost: u64,
}

impl Cost {
    /// The first limit this request goes past: its name (`aliases`, `rows`, `cost`) and the
    /// message the caller sees.
    pub fn excess(&self) -> Option<(&'static str, String)> {
        if self.aliases > MAX_ALIASES {
            return Some((
                "aliases",
                format!(
                "the query has {} aliased fields; at most {MAX_ALIASES} are allowed per request",
                self.aliases
            ),
            ));
        }
        if self.rows > MAX_ROWS {
            return Some(("rows", format!(
                "the query asks for up to {} rows; at most {MAX_ROWS} rows are allowed per request (lower the limit arguments or split the query)",
                self.rows
            )));
        }
        if self.cost > MAX_COST {
            return Some(("cost", format!(
                "the query's cost is {}; at most {MAX_COST} is allowed per request (each list counts its limit times the fields of one row)",
                self.cost
            )));
        }
        None
    }
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    op: &'a OperationDefinition,
    variables: &'a Variables,
    aliases: usize,
    rows: u64,
}

/// Measures the operation `operation_name` selects (or the only one). `None` when the
/// document names no such operation: execution reports that itself.
pub fn measure(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Option<Cost> {
    let op = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => &op.node,
        (DocumentOperations::Multiple(ops), Some(name)) => &ops.get(name)?.node,
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => &ops.values().next()?.node,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    let mut w = Walk {
        doc,
        op,
        variables,
        aliases: 0,
        rows: 0,
    };
    let cost = w.selection_set(&op.selection_set.node, 1, 0);
    Some(Cost {
        aliases: w.aliases,
        rows: w.rows,
        cost,
    })
}

impl<'a> Walk<'a> {
    /// The cost of a selection set under `multiplier` rows of its parent lists.
    fn selection_set(&mut self, set: &SelectionSet, multiplier: u64, depth: usize) -> u64 {
        let mut cost: u64 = 0;
        for item in &set.items {
            let c = match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    if f.alias.is_some() {
                        self.aliases += 1;
                    }
                    let rows = list_rows(f.name.node.as_str()).map(|l| match l {
                        ListRows::Limit { default } => {
                            self.limit(f.arguments.as_slice()).unwrap_or(default)
                        }
                        ListRows::Estimate(n) => n,
                    });
                    match rows {
                        Some(n) => {
                            let total = n.saturating_mul(multiplier);
                            self.rows = self.rows.saturating_add(total);
                            let row = self
                                .selection_set(&f.selection_set.node, total, depth)
                                .max(1);
                            1u64.saturating_add(n.saturating_mul(row))
                        }
                        None => 1u64.saturating_add(self.selection_set(
                            &f.selection_set.node,
                            multiplier,
                            depth,
                        )),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    match self.fragment(&spread.node.fragment_name.node, depth) {
                        Some(fragment) => {
                            self.selection_set(&fragment.selection_set.node, multiplier, depth + 1)
                        }
                        None => 0,
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.selection_set(&inline.node.selection_set.node, multiplier, depth + 1)
                }
            };
            cost = cost.saturating_add(c);
        }
        cost
    }

    fn fragment(&self, name: &Name, depth: usize) -> Option<&'a FragmentDefinition> {
        if depth >= MAX_FRAGMENT_DEPTH {
            return None;
        }
        let doc: &'a ExecutableDocument = self.doc;
        doc.fragments.get(name).map(|f| &f.node)
    }

    /// The `limit` argument of a field, resolving a variable (or its default).
    fn limit(&self, arguments: &[(Positioned<Name>, Positioned<Value>)]) -> Option<u64> {
        let (_, v) = arguments.iter().find(|(n, _)| n.node.as_str() == "limit")?;
        let number = |v: &Value| match v {
            Value::Number(n) => n.as_u64().or_else(|| n.as_i64().map(|_| 0)),
            _ => None,
        };
        match &v.node {
            Value::Variable(name) => {
                if let Some(value) = self.variables.get(name) {
                    return number(&value.clone().into_value());
                }
                self.op
                    .variable_definitions
                    .iter()
                    .find(|d| d.node.name.node == *name)
                    .and_then(|d| d.node.default_value.as_ref())
                    .and_then(|d| number(&d.node.clone().into_value()))
            }
            other => number(other),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cost(query: &str, variables: serde_json::Value) -> Cost {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let vars = Variables::from_json(variables);
        measure(&doc, None, &vars).unwrap()
    }

    #[test]
    fn aliases_multiply_rows_and_are_counted() {
        let one = "adminAuditLog(limit: 500) { id action }";
        let q: String = (0..490).map(|i| format!("a{i}: {one} ")).collect();
        let c = cost(&format!("{{ {q} }}"), serde_json::json!({}));
        assert_eq!(c.aliases, 490);
        assert_eq!(c.rows, 245_000);
        assert!(c.excess().unwrap().1.contains("at most 30"));
        // Without the alias cap it would still be refused for its rows.
        let q: String = (0..3).map(|i| format!("a{i}: {one} ")).collect();
        let c = cost(&format!("{{ {q} }}"), serde_json::json!({}));
        assert_eq!(c.rows, 1_500);
        assert_eq!(c.excess().unwrap().0, "rows");
        assert!(c.excess().unwrap().1.contains("1000 rows"));
    }

    #[test]
    fn a_full_page_is_allowed_and_its_cost_counts_every_row() {
        let c = cost(
            "{ adminAuditLog(limit: 500) { id action createdAt ip requestId targetType targetId actor { type id name } } }",
            serde_json::json!({}),
        );
        assert_eq!(c.rows, 500);
        // Seven fields, and `actor` with its three: eleven per row.
        assert_eq!(c.cost, 1 + 500 * 11);
        assert_eq!(c.excess(), None);
        let c = cost(
            "{ adminOauthClients { items { id name } totalCount } }",
            serde_json::json!({}),
        );
        assert_eq!(c.rows, 50);
    }

    #[test]
    fn variables_fragments_and_defaults_are_followed() {
        let c = cost(
            "query Q($n: Int = 7) { adminAuditLog(limit: $n) { ...F } } fragment F on AuditEvent { id action }",
            serde_json::json!({"n": 400}),
        );
        assert_eq!((c.rows, c.cost), (400, 1 + 400 * 2));
        let c = cost(
            "query Q($n: Int = 7) { adminAuditLog(limit: $n) { id } }",
            serde_json::json!({}),
        );
        assert_eq!(c.rows, 7);
        let c = cost(
            "{ x: adminAuditLog { ... on AuditEvent { id } } }",
            serde_json::json!({}),
        );
        assert_eq!((c.aliases, c.rows), (1, 50));
    }

    #[test]
    fn a_fragment_cycle_ends() {
        let c = cost(
            "{ adminApiKeys { ...A } } fragment A on ApiKey { id ...B } fragment B on ApiKey { name ...A }",
            serde_json::json!({}),
        );
        assert!(c.cost > 0);
    }

    #[test]
    fn the_standard_introspection_query_passes() {
        let doc = async_graphql::parser::parse_query(INTROSPECTION).unwrap();
        let c = measure(&doc, None, &Variables::default()).unwrap();
        assert_eq!(c.excess(), None, "{c:?}");
    }

    const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name } types { ...FullType } directives { name description locations args { ...InputValue } } } } fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason } inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } } fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue } fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";
}
