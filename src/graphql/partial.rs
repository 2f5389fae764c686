//! Partial results as the GraphQL spec has them ("Handling Field Errors"):
//! a field whose resolver failed is `null` in `data`, never left out, and a
//! failing non-null field makes its nearest nullable parent `null`.
//!
//! async-graphql 7 leaves a failed field's key out of its object. This is
//! the one place that puts it back, for every field: after execution, each
//! error's path is followed through the document and the schema's field
//! types to the position the spec says becomes `null`. It only runs for
//! responses with field errors.

use async_graphql::{
    parser::{
        parse_schema,
        types::{
            BaseType, ExecutableDocument, OperationType, Selection, SelectionSet, Type, TypeKind,
            TypeSystemDefinition,
        },
    },
    Name, PathSegment, Response, Value,
};
use std::collections::HashMap;

/// Every object field's output type, read from the schema's SDL.
#[derive(Debug, Default)]
pub struct OutputTypes {
    fields: HashMap<(String, String), Type>,
    query: String,
    mutation: String,
    subscription: String,
}

impl OutputTypes {
    pub fn from_sdl(sdl: &str) -> Self {
        let mut types = OutputTypes {
            query: "Query".into(),
            mutation: "Mutation".into(),
            subscription: "Subscription".into(),
            ..Default::default()
        };
        let Ok(doc) = parse_schema(sdl) else {
            return types;
        };
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            let t = t.node;
            let fields = match t.kind {
                TypeKind::Object(o) => o.fields,
                TypeKind::Interface(i) => i.fields,
                _ => continue,
            };
            for f in fields {
                types.fields.insert(
                    (t.name.node.to_string(), f.node.name.node.to_string()),
                    f.node.ty.node,
                );
            }
        }
        types
    }

    fn field(&self, parent: &str, field: &str) -> Option<&Type> {
        self.fields.get(&(parent.to_owned(), field.to_owned()))
    }

    fn root(&self, ty: OperationType) -> &str {
        match ty {
            OperationType::Query => &self.query,
            OperationType::Mutation => &self.mutation,
            OperationType::Subscription => &self.subscription,
        }
    }
}

/// Puts `null` where the response's field errors say, as the spec does.
pub fn complete(
    response: &mut Response,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    types: &OutputTypes,
) {
    let Some(op) = doc
        .operations
        .iter()
        .find(|(name, _)| operation_name.is_none() || name.map(|n| n.as_str()) == operation_name)
        .map(|(_, op)| op)
    else {
        return;
    };
    let root = types.root(op.node.ty);
    let targets: Vec<Option<&[PathSegment]>> = response
        .errors
        .iter()
        .filter(|e| !e.path.is_empty())
        .map(|e| null_target(&e.path, doc, &op.node.selection_set.node, root, types))
        .collect();
    if targets.is_empty() {
        return;
    }
    if targets.iter().any(Option::is_none) {
        // A non-null root field failed: there is no data.
        response.data = Value::Null;
        return;
    }
    // Deepest first, so that a parent nulled for a non-null child stays null.
    let mut targets: Vec<&[PathSegment]> = targets.into_iter().flatten().collect();
    targets.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for path in targets {
        set_null(&mut response.data, path);
    }
}

/// The position that becomes `null` for an error at `path`: the path
/// itself if its type is nullable, otherwise the nearest nullable position
/// above it; `None` when there is none (all of `data` is null).
fn null_target<'p>(
    path: &'p [PathSegment],
    doc: &ExecutableDocument,
    operation: &SelectionSet,
    root: &str,
    types: &OutputTypes,
) -> Option<&'p [PathSegment]> {
    // Whether each position along the path may be null.
    let mut nullable = Vec::with_capacity(path.len());
    let mut parent = root.to_owned();
    let mut set = Some(operation);
    let mut current: Option<&Type> = None;
    for segment in path {
        match segment {
            PathSegment::Field(key) => {
                let found = set.and_then(|s| find_field(doc, s, key, 0));
                let Some((name, type_condition, sub)) = found else {
                    // Unknown here (introspection, say): treat as nullable.
                    nullable.push(true);
                    current = None;
                    set = None;
                    continue;
                };
                let owner = type_condition.unwrap_or(parent.as_str()).to_owned();
                current = types.field(&owner, name);
                nullable.push(current.is_none_or(|t| t.nullable));
                set = Some(sub);
            }
            PathSegment::Index(_) => {
                current = match current.map(|t| &t.base) {
                    Some(BaseType::List(inner)) => Some(inner),
                    _ => None,
                };
                nullable.push(current.is_none_or(|t| t.nullable));
            }
        }
        if let Some(BaseType::Named(n)) = current.map(innermost) {
            parent = n.to_string();
        }
    }
    (1..=path.len())
        .rev()
        .find(|&len| nullable[len - 1])
        .map(|len| &path[..len])
}

fn innermost(t: &Type) -> &BaseType {
    match &t.base {
        BaseType::List(inner) => innermost(inner),
        named => named,
    }
}

/// The field a response key names in a selection set (looking through
/// fragments): its name, the type condition it sits under, its selection.
fn find_field<'d>(
    doc: &'d ExecutableDocument,
    set: &'d SelectionSet,
    key: &str,
    depth: usize,
) -> Option<(&'d str, Option<&'d str>, &'d SelectionSet)> {
    if depth > 32 {
        return None;
    }
    for item in &set.items {
        let found = match &item.node {
            Selection::Field(f) => (f.node.response_key().node.as_str() == key)
                .then(|| (f.node.name.node.as_str(), None, &f.node.selection_set.node)),
            Selection::InlineFragment(frag) => {
                let cond = frag
                    .node
                    .type_condition
                    .as_ref()
                    .map(|c| c.node.on.node.as_str());
                find_field(doc, &frag.node.selection_set.node, key, depth + 1)
                    .map(|(n, c, s)| (n, c.or(cond), s))
            }
            Selection::FragmentSpread(spread) => doc
                .fragments
                .get(&spread.node.fragment_name.node)
                .and_then(|frag| {
                    let cond = frag.node.type_condition.node.on.node.as_str();
                    find_field(doc, &frag.node.selection_set.node, key, depth + 1)
                        .map(|(n, c, s)| (n, c.or(Some(cond)), s))
                }),
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Sets the value at `path` to null. An object above it that async-graphql
/// made null because every one of its fields failed becomes an object
/// again, to hold the nulls.
fn set_null(data: &mut Value, path: &[PathSegment]) {
    let Some((last, above)) = path.split_last() else {
        *data = Value::Null;
        return;
    };
    let mut at = data;
    for segment in above {
        if *at == Value::Null {
            *at = Value::Object(Default::default());
        }
        let next = match (segment, at) {
            (PathSegment::Field(key), Value::Object(map)) => map.get_mut(key.as_str()),
            (PathSegment::Index(i), Value::List(list)) => list.get_mut(*i),
            _ => None,
        };
        match next {
            Some(v) => at = v,
            // Not there: nothing to complete.
            None => return,
        }
    }
    if *at == Value::Null {
        *at = Value::Object(Default::default());
    }
    match (last, at) {
        (PathSegment::Field(key), Value::Object(map)) => {
            map.insert(Name::new(key), Value::Null);
        }
        (PathSegment::Index(i), Value::List(list)) => {
            if let Some(v) = list.get_mut(*i) {
                *v = Value::Null;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{parser::parse_query, ServerError};

    const SDL: &str = "
        type Query { me: Me! ws: Ws list: [Item!]! maybe: [Item] }
        type Me { name: String! friend: Me }
        type Ws { domains: [String!] owner: Me! }
        type Item { id: ID! sub: Ws }
    ";

    fn run(query: &str, data: serde_json::Value, paths: &[&[PathSegment]]) -> serde_json::Value {
        let doc = parse_query(query).unwrap();
        let mut response = Response::new(Value::from_json(data).unwrap());
        for p in paths {
            let mut e = ServerError::new("no", None);
            e.path = p.to_vec();
            response.errors.push(e);
        }
        complete(&mut response, &doc, None, &OutputTypes::from_sdl(SDL));
        response.data.into_json().unwrap()
    }

    fn f(s: &str) -> PathSegment {
        PathSegment::Field(s.into())
    }

    #[test]
    fn a_failed_nullable_field_is_null_not_missing() {
        let data = run(
            "{ ws { owner { name } } }",
            serde_json::json!({ "ws": { "owner": { "name": "a" } } }),
            &[&[f("ws"), f("domains")]],
        );
        assert_eq!(
            data,
            serde_json::json!({ "ws": { "owner": { "name": "a" }, "domains": null } })
        );
    }

    #[test]
    fn a_failed_non_null_field_nulls_its_nearest_nullable_parent() {
        let data = run(
            "{ ws { owner { name } } }",
            serde_json::json!({ "ws": { "owner": {} } }),
            &[&[f("ws"), f("owner"), f("name")]],
        );
        assert_eq!(data, serde_json::json!({ "ws": null }));
    }

    #[test]
    fn a_failed_element_of_a_non_null_list_nulls_past_the_list() {
        let data = run(
            "{ ws { domains } list { sub { domains } id } }",
            serde_json::json!({ "ws": { "domains": [] }, "list": [{ "sub": {} }] }),
            &[&[f("list"), PathSegment::Index(0), f("id")]],
        );
        assert_eq!(
            data,
            serde_json::Value::Null,
            "list is non-null, so is data"
        );
    }

    #[test]
    fn a_nullable_element_is_nulled_in_place() {
        let data = run(
            "{ maybe { id } }",
            serde_json::json!({ "maybe": [{ "id": "1" }, {}] }),
            &[&[f("maybe"), PathSegment::Index(1), f("id")]],
        );
        assert_eq!(data, serde_json::json!({ "maybe": [{ "id": "1" }, null] }));
    }

    #[test]
    fn an_object_whose_fields_all_failed_holds_their_nulls() {
        // async-graphql makes such an object null.
        let data = run(
            "{ ws { domains } }",
            serde_json::json!({ "ws": null }),
            &[&[f("ws"), f("domains")]],
        );
        assert_eq!(data, serde_json::json!({ "ws": { "domains": null } }));
    }

    #[test]
    fn aliases_and_fragments_are_followed() {
        let data = run(
            "{ w: ws { ...F } } fragment F on Ws { o: owner { name } }",
            serde_json::json!({ "w": { "o": {} } }),
            &[&[f("w"), f("o"), f("name")]],
        );
        assert_eq!(data, serde_json::json!({ "w": null }));
    }

    #[test]
    fn a_failed_nullable_root_field_leaves_data_with_a_null_key() {
        let data = run(
            "{ ws { owner { name } } }",
            serde_json::Value::Null,
            &[&[f("ws")]],
        );
        assert_eq!(data, serde_json::json!({ "ws": null }));
        let data = run("{ me { name } }", serde_json::Value::Null, &[&[f("me")]]);
        assert_eq!(data, serde_json::Value::Null);
    }
}
