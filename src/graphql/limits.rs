//! Limits on the shape of a query that depth and complexity do not catch:
//! how many aliases it uses and how many root fields it asks for.
//!
//! Checked by the HTTP edge on the document it parsed, before execution.
//! Not an async-graphql extension on purpose: any extension wraps every
//! resolved field in one more boxed future.

use async_graphql::{
    parser::types::{ExecutableDocument, Selection, SelectionSet},
    Name, ServerError,
};
use std::collections::HashSet;

use super::errors::{coded, Code};

#[derive(Debug, Clone, Copy)]
pub struct ShapeLimits {
    pub max_aliases: usize,
    pub max_root_fields: usize,
}

impl ShapeLimits {
    /// `GRAPHQL_VALIDATION_FAILED` when the document is over a limit.
    pub fn check(&self, doc: &ExecutableDocument) -> Result<(), ServerError> {
        let aliases = count_aliases(doc);
        if aliases > self.max_aliases {
            return Err(refusal(format!(
                "The query uses {aliases} aliases; at most {} are allowed",
                self.max_aliases
            )));
        }
        for (_, op) in doc.operations.iter() {
            let roots = count_root_fields(doc, &op.node.selection_set.node, &mut HashSet::new());
            if roots > self.max_root_fields {
                return Err(refusal(format!(
                    "The operation asks for {roots} root fields; at most {} are allowed",
                    self.max_root_fields
                )));
            }
        }
        Ok(())
    }
}

fn refusal(message: String) -> ServerError {
    coded(message, Code::GraphqlValidationFailed)
}

/// Aliases in every operation and fragment, each definition counted once.
fn count_aliases(doc: &ExecutableDocument) -> usize {
    fn walk(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + walk(&f.node.selection_set.node)
                }
                Selection::InlineFragment(f) => walk(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let in_operations: usize = doc
        .operations
        .iter()
        .map(|(_, op)| walk(&op.node.selection_set.node))
        .sum();
    let in_fragments: usize = doc
        .fragments
        .values()
        .map(|f| walk(&f.node.selection_set.node))
        .sum();
    in_operations + in_fragments
}

/// Fields at the root of an operation, looking through fragments (each
/// fragment once, so a cycle cannot loop; validation reports cycles later).
fn count_root_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    seen: &mut HashSet<&'a Name>,
) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(_) => 1,
            Selection::InlineFragment(f) => {
                count_root_fields(doc, &f.node.selection_set.node, seen)
            }
            Selection::FragmentSpread(s) => {
                let name = &s.node.fragment_name.node;
                match doc.fragments.get(name) {
                    Some(f) if seen.insert(name) => {
                        count_root_fields(doc, &f.node.selection_set.node, seen)
                    }
                    _ => 0,
                }
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(q: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(q).unwrap()
    }

    #[test]
    fn aliases_are_counted_in_operations_and_fragments() {
        let d = doc("{ a: me { b: id } ...F } fragment F on Query { c: me { id } }");
        assert_eq!(count_aliases(&d), 3);
    }

    #[test]
    fn root_fields_are_counted_through_fragments_once() {
        let d = doc("{ me { id } ... on Query { workspaces { totalCount } } ...F ...F } fragment F on Query { a: me { id } b: me { id } }");
        let (_, op) = d.operations.iter().next().unwrap();
        assert_eq!(
            count_root_fields(&d, &op.node.selection_set.node, &mut HashSet::new()),
            4
        );
    }
}
