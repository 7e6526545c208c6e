//! `Link` and cursor pagination with provenance recording, against a local wiremock server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};
use soc2_evidence_core::http::{CursorPager, HttpClient, LinkPager, RetryPolicy};
use soc2_evidence_core::ProvenanceRecorder;
use wiremock::matchers::{body_partial_json, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(base: &str) -> HttpClient {
    HttpClient::builder(base)
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

fn recorder() -> ProvenanceRecorder {
    ProvenanceRecorder::new("users", "test.user", "Test API", "test", "0.1.0")
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

#[tokio::test]
async fn okta_style_separate_link_lines_three_pages() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let page = |body: &str, this: &str, next: Option<&str>| {
        let mut t = ResponseTemplate::new(200)
            .set_body_string(body)
            .append_header("link", format!("<{uri}{this}>; rel=\"self\"").as_str());
        if let Some(n) = next {
            t = t.append_header("link", format!("<{uri}{n}>; rel=\"next\"").as_str());
        }
        t
    };
    let bodies = [
        r#"[{"id":"a"},{"id":"b"}]"#,
        r#"[{"id":"c"},{"id":"d"}]"#,
        r#"[{"id":"e"}]"#,
    ];
    Mock::given(path("/api/v1/users"))
        .and(query_param_is_missing("after"))
        .respond_with(page(
            bodies[0],
            "/api/v1/users?limit=2",
            Some("/api/v1/users?after=b&limit=2"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/users"))
        .and(query_param("after", "b"))
        .respond_with(page(
            bodies[1],
            "/api/v1/users?after=b&limit=2",
            Some("/api/v1/users?after=d&limit=2"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/users"))
        .and(query_param("after", "d"))
        .respond_with(page(bodies[2], "/api/v1/users?after=d&limit=2", None))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&uri);
    let mut rec = recorder();
    let mut pager = LinkPager::new("/api/v1/users", &[("limit", "2")]);
    let mut ids = Vec::new();
    while let Some(resp) = pager.next_page(&c, &mut rec).await.unwrap() {
        assert_eq!(
            resp.header_all("link").len(),
            if ids.len() < 4 { 2 } else { 1 }
        );
        let users: Vec<serde_json::Value> = resp.json().unwrap();
        rec.received(pager.endpoint().unwrap(), users.len() as u64);
        ids.extend(
            users
                .into_iter()
                .map(|u| u["id"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    assert!(pager.next_page(&c, &mut rec).await.unwrap().is_none());
    assert_eq!(pager.pages(), 3);

    let p = rec.finish(true);
    assert_eq!((p.pages, p.records_received), (3, 5));
    assert_eq!(p.endpoints.len(), 1);
    assert_eq!(p.endpoints[0].endpoint, "/api/v1/users");
    assert_eq!(p.endpoints[0].method, "GET");
    assert_eq!(p.endpoints[0].pages, 3);
    assert_eq!(
        p.endpoints[0].parameters.get("limit").map(String::as_str),
        Some("2")
    );
    assert_eq!(p.response_sha256, sha256_hex(&bodies));
}

#[tokio::test]
async fn github_style_one_line_with_relative_and_absolute_links() {
    let server = MockServer::start().await;
    let uri = server.uri();
    let abs = |q: &str| format!("{uri}/api/v3/repositories/1/pulls?per_page=2&page={q}");
    Mock::given(path("/api/v3/repos/o/r/pulls"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[1,2]").insert_header(
            "Link",
            // relative next, absolute last, on one line
            format!(
                "</api/v3/repositories/1/pulls?per_page=2&page=2>; rel=\"next\", <{}>; rel=\"last\"",
                abs("3")
            )
            .as_str(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v3/repositories/1/pulls"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("[3,4]")
                .insert_header(
                    "Link",
                    format!(
                "<{}>; rel=\"prev\", <{}>; rel=\"next\", <{}>; rel=\"last\", <{}>; rel=\"first\"",
                abs("1"),
                abs("3"),
                abs("3"),
                abs("1")
            )
                    .as_str(),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v3/repositories/1/pulls"))
        .and(query_param("page", "3"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("[5]")
                .insert_header(
                    "Link",
                    format!(
                        "<{}>; rel=\"prev\", <{}>; rel=\"first\"",
                        abs("2"),
                        abs("1")
                    )
                    .as_str(),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&format!("{uri}/api/v3"));
    let mut rec = recorder();
    let mut pager = LinkPager::new("/repos/o/r/pulls", &[("per_page", "2")]);
    let mut all = Vec::new();
    while let Some(resp) = pager.next_page(&c, &mut rec).await.unwrap() {
        let items: Vec<u32> = resp.json().unwrap();
        all.extend(items);
    }
    assert_eq!(all, [1, 2, 3, 4, 5]);
    let p = rec.finish(true);
    assert_eq!(p.pages, 3);
    assert_eq!(p.endpoints.len(), 1, "all pages under the first path");
    assert_eq!(p.endpoints[0].endpoint, "/api/v3/repos/o/r/pulls");
    assert_eq!(p.response_sha256, sha256_hex(&["[1,2]", "[3,4]", "[5]"]));
}

#[tokio::test]
async fn a_next_link_to_the_same_page_ends_paging() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(path("/loop"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("[]")
                .insert_header("link", format!("<{uri}/loop>; rel=next").as_str()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&uri);
    let mut rec = recorder();
    let mut pager = LinkPager::new("/loop", &[]);
    assert!(pager.next_page(&c, &mut rec).await.unwrap().is_some());
    assert!(pager.next_page(&c, &mut rec).await.unwrap().is_none());
    assert!(pager.is_done());
}

#[tokio::test]
async fn graphql_cursor_pagination_with_post_recorded() {
    let server = MockServer::start().await;
    let page = |nodes: serde_json::Value, has_next: bool, cursor: &str| {
        json!({"data": {"repository": {"pullRequests": {
            "nodes": nodes,
            "pageInfo": {"hasNextPage": has_next, "endCursor": cursor}
        }}}})
    };
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_partial_json(json!({"variables": {"cursor": null}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(json!([1, 2]), true, "C1")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_partial_json(json!({"variables": {"cursor": "C1"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(json!([3]), false, "C2")))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&server.uri());
    let mut rec = recorder();
    let mut pager = CursorPager::new();
    let mut nodes = Vec::new();
    while pager.has_next() {
        let body = json!({"query": "query($cursor: String) { … }", "variables": {"cursor": pager.cursor()}});
        let resp = c
            .post_json_recorded(&mut rec, "/graphql", &body)
            .await
            .unwrap();
        let v: serde_json::Value = resp.json().unwrap();
        let prs = &v["data"]["repository"]["pullRequests"];
        nodes.extend(prs["nodes"].as_array().unwrap().iter().cloned());
        let next = prs["pageInfo"]["hasNextPage"]
            .as_bool()
            .unwrap()
            .then(|| prs["pageInfo"]["endCursor"].as_str().unwrap().to_string());
        pager.set_next(next);
    }
    assert_eq!(nodes, [json!(1), json!(2), json!(3)]);
    assert_eq!(pager.pages(), 2);
    assert!(!pager.stalled());
    let p = rec.finish(true);
    assert_eq!(p.endpoints[0].method, "POST");
    assert_eq!(p.endpoints[0].endpoint, "/graphql");
    assert_eq!(p.endpoints[0].pages, 2);
}

#[tokio::test]
async fn get_recorded_redacts_secret_params() {
    let server = MockServer::start().await;
    Mock::given(path("/rest/api/3/search/jql"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"issues":[],"isLast":true}"#))
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let mut rec = recorder();
    c.get_recorded(
        &mut rec,
        "/rest/api/3/search/jql",
        &[("jql", "project = CHG"), ("api_key", "k-secret")],
    )
    .await
    .unwrap();
    let p = rec.finish(true);
    let params = &p.endpoints[0].parameters;
    assert_eq!(params["jql"], "project = CHG");
    assert_eq!(params["api_key"], "[redacted]");
}

#[test]
fn cursor_pager_stops_on_a_repeated_or_empty_cursor() {
    let mut p = CursorPager::new();
    p.set_next(Some("x".into()));
    p.set_next(Some("x".into()));
    assert!(!p.has_next() && p.stalled());
    let mut p = CursorPager::new();
    p.set_next(Some(String::new()));
    assert!(!p.has_next() && !p.stalled());
}

#[tokio::test]
async fn credentials_are_not_sent_to_a_foreign_next_link() {
    use soc2_evidence_core::http::{Auth, Secret};
    let home = MockServer::start().await;
    let foreign = MockServer::start().await;
    Mock::given(path("/items"))
        .and(wiremock::matchers::header(
            "authorization",
            "Bearer home-token",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("[1]")
                .insert_header(
                    "link",
                    format!("<{}/items?page=2>; rel=\"next\"", foreign.uri()).as_str(),
                ),
        )
        .expect(1)
        .mount(&home)
        .await;
    Mock::given(path("/items"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[2]"))
        .expect(1)
        .mount(&foreign)
        .await;
    let c = HttpClient::builder(&home.uri())
        .auth(Auth::Bearer(Secret::new("home-token")))
        .build()
        .unwrap();
    let mut rec = recorder();
    let mut pager = LinkPager::new("/items", &[]);
    while pager.next_page(&c, &mut rec).await.unwrap().is_some() {}
    let seen = foreign.received_requests().await.unwrap();
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].headers.contains_key("authorization"));
}

#[tokio::test]
async fn labelled_listings_of_one_path_stay_apart_in_provenance() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(path("/api/v1/users"))
        .and(query_param_is_missing("filter"))
        .and(query_param_is_missing("after"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"[{"id":"a"}]"#)
                .append_header(
                    "link",
                    format!("<{uri}/api/v1/users?after=a&limit=1>; rel=\"next\"").as_str(),
                ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/users"))
        .and(query_param("after", "a"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"[{"id":"b"}]"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/users"))
        .and(query_param("filter", r#"status eq "DEPROVISIONED""#))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"[{"id":"z"}]"#))
        .expect(1)
        .mount(&server)
        .await;

    let c = client(&uri);
    let mut rec = recorder();
    let deprovisioned = LinkPager::new(
        "/api/v1/users",
        &[("limit", "1"), ("filter", r#"status eq "DEPROVISIONED""#)],
    )
    .label("/api/v1/users?filter=DEPROVISIONED");
    assert_eq!(
        deprovisioned.endpoint(),
        Some("/api/v1/users?filter=DEPROVISIONED"),
        "a label is known before the first page"
    );
    for mut pager in [
        LinkPager::new("/api/v1/users", &[("limit", "1")]),
        deprovisioned,
    ] {
        while let Some(page) = pager.next_page(&c, &mut rec).await.unwrap() {
            let n = page.json::<Vec<serde_json::Value>>().unwrap().len() as u64;
            rec.received(pager.endpoint().unwrap(), n);
        }
    }
    let p = rec.finish(true);
    let seen: Vec<(&str, u64, u64)> = p
        .endpoints
        .iter()
        .map(|e| (e.endpoint.as_str(), e.pages, e.records_received))
        .collect();
    assert_eq!(
        seen,
        [
            ("/api/v1/users", 2, 2),
            ("/api/v1/users?filter=DEPROVISIONED", 1, 1)
        ]
    );
    assert_eq!(
        p.endpoints[1].parameters.get("filter").map(String::as_str),
        Some(r#"status eq "DEPROVISIONED""#)
    );
}

#[tokio::test]
async fn a_labelled_cursor_pager_records_body_paged_listings() {
    let server = MockServer::start().await;
    let uri = server.uri();
    Mock::given(path("/api/v1/iam/assignees/users"))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [{"id": "u1"}],
            "_links": {"next": {"href": format!("{uri}/api/v1/iam/assignees/users?after=u1&limit=1")}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/iam/assignees/users"))
        .and(query_param("after", "u1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [{"id": "u2"}]})))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&uri);
    let mut rec = recorder();
    let mut pager = CursorPager::new().label("assignees");
    while pager.has_next() {
        let page = match pager.cursor() {
            None => {
                c.get("/api/v1/iam/assignees/users", &[("limit", "1")])
                    .await
            }
            Some(next) => c.get(next, &[]).await,
        }
        .unwrap();
        pager.record(&mut rec, &page);
        let body: serde_json::Value = page.json().unwrap();
        pager.set_next(body["_links"]["next"]["href"].as_str().map(String::from));
    }
    let p = rec.finish(true);
    assert_eq!(p.endpoints.len(), 1);
    assert_eq!(
        (p.endpoints[0].endpoint.as_str(), p.endpoints[0].pages),
        ("assignees", 2)
    );
    assert_eq!(
        p.endpoints[0].parameters.get("limit").map(String::as_str),
        Some("1")
    );
}
