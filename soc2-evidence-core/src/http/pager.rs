//! Pagination helpers: `Link rel="next"` and cursor tokens.

use url::Url;

use super::{HttpClient, HttpError, HttpResponse};

/// Follows `rel="next"` links (RFC 8288) until there is none, recording every page into a
/// [`ProvenanceRecorder`](crate::ProvenanceRecorder) under the first request's path, or under
/// a [`label`](Self::label) when two listings of one path must stay apart in provenance.
///
/// Works for Okta (one `Link` line per link) and GitHub (one comma-separated line). Next links
/// are followed as given. A `next` link equal to the page just read ends the paging, so a
/// misbehaving server cannot loop forever. Okta System Log polling queries always return a
/// `next` link; call [`stop`](Self::stop) on an empty page.
///
/// ```no_run
/// use soc2_evidence_core::http::{HttpClient, LinkPager};
/// use soc2_evidence_core::ProvenanceRecorder;
/// # async fn demo(okta: HttpClient) -> Result<(), soc2_evidence_core::http::HttpError> {
/// let mut rec = ProvenanceRecorder::new("users", "okta.user", "Okta Management API", "okta", "0.1.0");
/// let mut pager = LinkPager::new("/api/v1/users", &[("limit", "200")]);
/// while let Some(page) = pager.next_page(&okta, &mut rec).await? {
///     let users: Vec<serde_json::Value> = page.json()?;
///     rec.received(pager.endpoint().unwrap_or_default(), users.len() as u64);
/// }
/// # Ok(()) }
/// ```
///
/// Okta leaves deprovisioned users out of an unfiltered list, so they are listed on their
/// own; the labels keep the two listings' pages and counts apart:
///
/// ```no_run
/// # use soc2_evidence_core::http::{HttpClient, LinkPager};
/// # async fn demo(okta: HttpClient, rec: &mut soc2_evidence_core::ProvenanceRecorder)
/// #     -> Result<(), soc2_evidence_core::http::HttpError> {
/// let listings = [
///     LinkPager::new("/api/v1/users", &[("limit", "200")]),
///     LinkPager::new("/api/v1/users", &[("limit", "200"), ("filter", r#"status eq "DEPROVISIONED""#)])
///         .label("/api/v1/users?filter=DEPROVISIONED"),
/// ];
/// for mut pager in listings {
///     while let Some(page) = pager.next_page(&okta, rec).await? {
///         let users: Vec<serde_json::Value> = page.json()?;
///         rec.received(pager.endpoint().unwrap_or_default(), users.len() as u64);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct LinkPager {
    first: Option<(String, Vec<(String, String)>)>,
    next: Option<Url>,
    endpoint: Option<String>,
    pages: u64,
    done: bool,
}

impl LinkPager {
    /// A pager whose first request is `GET path_or_url` with `query`.
    pub fn new(path_or_url: &str, query: &[(&str, &str)]) -> Self {
        Self {
            first: Some((
                path_or_url.to_string(),
                query
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )),
            next: None,
            endpoint: None,
            pages: 0,
            done: false,
        }
    }

    /// Records every page under `label` instead of the first request's path, e.g.
    /// `/api/v1/users?filter=DEPROVISIONED` for a second listing of `/api/v1/users`. Pass the
    /// same label to [`ProvenanceRecorder::received`](crate::ProvenanceRecorder::received);
    /// [`endpoint`](Self::endpoint) returns it.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.endpoint = Some(label.into());
        self
    }

    /// Fetches the next page, or `None` when the previous page had no `next` link. Each page
    /// is recorded into `rec` under the label, or else the path of the first request (so
    /// every page of one listing counts towards one endpoint, even when next links use
    /// another path form), with the first request's query parameters.
    pub async fn next_page(
        &mut self,
        client: &HttpClient,
        rec: &mut crate::ProvenanceRecorder,
    ) -> Result<Option<HttpResponse>, HttpError> {
        if self.done {
            return Ok(None);
        }
        let resp = if let Some((path, query)) = self.first.take() {
            let refs: Vec<(&str, &str)> = query
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            match client.get(&path, &refs).await {
                Ok(r) => r,
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        } else if let Some(next) = self.next.take() {
            match client.get(next.as_str(), &[]).await {
                Ok(r) => r,
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        } else {
            self.done = true;
            return Ok(None);
        };
        let endpoint = self
            .endpoint
            .get_or_insert_with(|| resp.url().path().to_string())
            .clone();
        resp.record(rec, &endpoint);
        self.pages += 1;
        match resp.next_link() {
            Some(next) if next != *resp.url() => self.next = Some(next),
            _ => self.done = true,
        }
        Ok(Some(resp))
    }

    /// Stops paging: the next call to [`next_page`](Self::next_page) returns `None`.
    pub fn stop(&mut self) {
        self.done = true;
        self.first = None;
        self.next = None;
    }

    /// Whether paging has ended.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Pages read so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The label or endpoint path pages are recorded under (a path is known after the first
    /// page).
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }
}

/// Cursor pagination where the caller reads the next cursor from each body (Jira
/// `nextPageToken`/`isLast`, GitHub GraphQL `pageInfo.endCursor`/`hasNextPage`, AWS
/// `NextToken`).
///
/// Loop while [`has_next`](Self::has_next); send [`cursor`](Self::cursor) (`None` on the first
/// page); after each page call [`set_next`](Self::set_next) with the next cursor, or `None` on
/// the last page. An empty cursor counts as `None`, and a cursor equal to the one just used
/// ends paging (and sets [`stalled`](Self::stalled)) so a server that repeats itself cannot
/// loop forever.
///
/// ```
/// use soc2_evidence_core::http::{CursorPager, HttpClient, HttpError};
/// use soc2_evidence_core::ProvenanceRecorder;
///
/// // Jira Cloud: GET /rest/api/3/search/jql → {issues, nextPageToken?, isLast}
/// async fn jira_issues(jira: &HttpClient, rec: &mut ProvenanceRecorder, jql: &str)
///     -> Result<Vec<serde_json::Value>, HttpError>
/// {
///     let mut issues = Vec::new();
///     let mut pager = CursorPager::new();
///     while pager.has_next() {
///         let mut query = vec![("jql", jql), ("maxResults", "100"), ("fields", "*all")];
///         if let Some(token) = pager.cursor() {
///             query.push(("nextPageToken", token));
///         }
///         let page = jira.get_recorded(rec, "/rest/api/3/search/jql", &query).await?;
///         let body: serde_json::Value = page.json()?;
///         issues.extend(body["issues"].as_array().cloned().unwrap_or_default());
///         let last = body["isLast"].as_bool().unwrap_or(true);
///         let next = body["nextPageToken"].as_str().filter(|_| !last).map(String::from);
///         pager.set_next(next);
///     }
///     Ok(issues)
/// }
///
/// // The bookkeeping on its own:
/// let mut p = CursorPager::new();
/// assert!(p.has_next() && p.cursor().is_none());
/// p.set_next(Some("c2".into()));
/// assert_eq!(p.cursor(), Some("c2"));
/// p.set_next(None);
/// assert!(!p.has_next());
/// assert_eq!(p.pages(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CursorPager {
    label: Option<String>,
    cursor: Option<String>,
    pages: u64,
    done: bool,
    stalled: bool,
}

impl CursorPager {
    /// A pager before its first page.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records pages passed to [`record`](Self::record) under `label` rather than the
    /// request path.
    ///
    /// ```
    /// use soc2_evidence_core::http::CursorPager;
    /// let p = CursorPager::new().label("/api/v1/iam/assignees/users");
    /// assert_eq!(p.endpoint(), Some("/api/v1/iam/assignees/users"));
    /// ```
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// The label pages are recorded under, if one was given.
    pub fn endpoint(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// Records one page into `rec` under the label, or else the response's path, with the
    /// request's query parameters (secret-looking values redacted) and the raw body — for
    /// cursor pages fetched with plain [`HttpClient::get`] or [`HttpClient::post_json`].
    pub fn record(&self, rec: &mut crate::ProvenanceRecorder, page: &HttpResponse) {
        match &self.label {
            Some(label) => page.record(rec, label),
            None => page.record(rec, page.url().path()),
        }
    }

    /// Whether another page should be fetched.
    pub fn has_next(&self) -> bool {
        !self.done
    }

    /// The cursor to send for the next page; `None` for the first page.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Records that a page was read and what its next cursor is (`None` on the last page).
    pub fn set_next(&mut self, next: Option<String>) {
        self.pages += 1;
        let next = next.filter(|c| !c.is_empty());
        match next {
            None => self.done = true,
            Some(c) if self.cursor.as_deref() == Some(c.as_str()) => {
                tracing::warn!(
                    "cursor pagination: the server returned the same cursor again; stopping"
                );
                self.stalled = true;
                self.done = true;
            }
            Some(c) => self.cursor = Some(c),
        }
    }

    /// Pages recorded with [`set_next`](Self::set_next) so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Whether paging stopped because the server repeated a cursor (the population may be
    /// incomplete; say so in provenance).
    pub fn stalled(&self) -> bool {
        self.stalled
    }
}
