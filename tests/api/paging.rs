//! SPEC "Lists": Relay connections, exact page info, limits and cursors.

use crate::helpers::{code, reason, spawn_app, TestApp, User};
use serde_json::{json, Value};

const LIST: &str = "query($first: Int, $after: String, $last: Int, $before: String) {
  workspaces(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { name } }
    nodes { name }
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
  }
}";

async fn with_workspaces(n: usize) -> (TestApp, User) {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    for i in 0..n {
        app.create_workspace(&ada, &format!("w{i:02}"), &[]).await;
    }
    (app, ada)
}

fn names(conn: &Value) -> Vec<String> {
    conn["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect()
}

fn expected(range: impl DoubleEndedIterator<Item = usize>) -> Vec<String> {
    range.rev().map(|i| format!("w{i:02}")).collect()
}

#[tokio::test]
async fn pages_are_20_newest_first_by_default_with_exact_page_info() {
    let (app, ada) = with_workspaces(25).await;
    let page1 = app.ok(&ada, LIST, json!({})).await["workspaces"].clone();
    assert_eq!(page1["totalCount"], 25);
    assert_eq!(names(&page1), expected(5..25));
    assert_eq!(page1["pageInfo"]["hasNextPage"], true);
    assert_eq!(page1["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(page1["edges"][19]["cursor"], page1["pageInfo"]["endCursor"]);

    let page2 = app
        .ok(
            &ada,
            LIST,
            json!({ "after": page1["pageInfo"]["endCursor"] }),
        )
        .await["workspaces"]
        .clone();
    assert_eq!(names(&page2), expected(0..5));
    assert_eq!(page2["pageInfo"]["hasNextPage"], false);
    assert_eq!(page2["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(page2["totalCount"], 25, "totalCount counts the whole set");
}

#[tokio::test]
async fn last_pages_walk_backwards_and_stay_newest_first() {
    let (app, ada) = with_workspaces(25).await;
    let tail = app.ok(&ada, LIST, json!({ "last": 20 })).await["workspaces"].clone();
    assert_eq!(names(&tail), expected(0..20));
    assert_eq!(tail["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(tail["pageInfo"]["hasNextPage"], false);

    let head = app
        .ok(
            &ada,
            LIST,
            json!({ "last": 20, "before": tail["pageInfo"]["startCursor"] }),
        )
        .await["workspaces"]
        .clone();
    assert_eq!(names(&head), expected(20..25));
    assert_eq!(head["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(head["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn first_zero_says_whether_there_is_anything() {
    let (app, ada) = with_workspaces(2).await;
    let page = app.ok(&ada, LIST, json!({ "first": 0 })).await["workspaces"].clone();
    assert_eq!(names(&page).len(), 0);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn page_size_limits_are_bad_user_input() {
    let (app, ada) = with_workspaces(1).await;
    for vars in [
        json!({ "first": 101 }),
        json!({ "first": -1 }),
        json!({ "last": 1000 }),
        json!({ "first": 1, "last": 1 }),
    ] {
        let body = app.gql(Some(&ada), LIST, vars.clone()).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{vars}");
    }
    assert_eq!(
        app.ok(&ada, LIST, json!({ "first": 100 })).await["workspaces"]["totalCount"],
        1
    );
}

#[tokio::test]
async fn bad_cursors_are_bad_user_input() {
    let (app, ada) = with_workspaces(1).await;
    for cursor in ["nonsense", "", "d29ya3NwYWNlc3wxfDI"] {
        let body = app.gql(Some(&ada), LIST, json!({ "after": cursor })).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{cursor}");
        assert_eq!(reason(&body), "INVALID_CURSOR");
        assert_eq!(body["errors"][0]["extensions"]["field"], "after");
    }
}

#[tokio::test]
async fn a_cursor_from_another_listing_is_refused() {
    let (app, ada) = with_workspaces(1).await;
    let q = "{ workspaces { nodes { members { pageInfo { endCursor } } } } }";
    let data = app.ok(&ada, q, json!({})).await;
    let members_cursor = data["workspaces"]["nodes"][0]["members"]["pageInfo"]["endCursor"].clone();
    let body = app
        .gql(Some(&ada), LIST, json!({ "before": members_cursor }))
        .await;
    assert_eq!(reason(&body), "INVALID_CURSOR");
}

#[tokio::test]
async fn members_page_both_ways() {
    let app = spawn_app().await;
    let ada = app.user("ada@acme.test");
    let id = app.create_workspace(&ada, "Acme", &[]).await;
    for i in 0..4 {
        app.add_member(&id, &app.user(&format!("m{i}@acme.test")))
            .await;
    }
    let q = "query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
      workspace(id: $id) { members(first: $first, after: $after, last: $last, before: $before) {
        totalCount nodes { handle } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } } }";
    let p1 = app.ok(&ada, q, json!({ "id": id, "first": 2 })).await["workspace"]["members"].clone();
    assert_eq!(
        p1["nodes"],
        json!([{ "handle": "@ada" }, { "handle": "@m0" }])
    );
    assert_eq!(p1["totalCount"], 5);
    let p2 = app
        .ok(
            &ada,
            q,
            json!({ "id": id, "first": 2, "after": p1["pageInfo"]["endCursor"] }),
        )
        .await["workspace"]["members"]
        .clone();
    assert_eq!(
        p2["nodes"],
        json!([{ "handle": "@m1" }, { "handle": "@m2" }])
    );
    assert_eq!(p2["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(p2["pageInfo"]["hasNextPage"], true);
    let back = app
        .ok(
            &ada,
            q,
            json!({ "id": id, "last": 1, "before": p2["pageInfo"]["startCursor"] }),
        )
        .await["workspace"]["members"]
        .clone();
    assert_eq!(back["nodes"], json!([{ "handle": "@m0" }]));
    assert_eq!(back["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(back["pageInfo"]["hasNextPage"], true);
}
