//! A client with a pacer slows down on the rate-limit headers before the window runs out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use soc2_evidence_core::http::{HttpClient, Pacer, RateLimitHeaders};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Answers with an Okta-style window that has only the reserve left, resetting in a second,
/// and counts requests in flight at once.
struct LowWindow {
    reset: i64,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Respond for LowWindow {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        // The response is held back 60 ms after `respond` returns; a request that overlaps
        // this one arrives well within the first 20 ms, a sequential one after 60.
        let in_flight = Arc::clone(&self.in_flight);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            in_flight.fetch_sub(1, Ordering::SeqCst);
        });
        ResponseTemplate::new(200)
            .insert_header("X-Rate-Limit-Limit", "600")
            .insert_header("X-Rate-Limit-Remaining", "30")
            .insert_header("X-Rate-Limit-Reset", self.reset.to_string().as_str())
            .set_body_string("[]")
            .set_delay(Duration::from_millis(60))
    }
}

#[tokio::test]
async fn a_paced_client_pauses_for_the_reset_when_only_the_reserve_is_left() {
    let server = MockServer::start().await;
    let reset = chrono::Utc::now().timestamp() + 1;
    let peak = Arc::new(AtomicUsize::new(0));
    Mock::given(wiremock::matchers::path("/api/v1/users/u/factors"))
        .respond_with(LowWindow {
            reset,
            in_flight: Arc::new(AtomicUsize::new(0)),
            peak: Arc::clone(&peak),
        })
        .mount(&server)
        .await;
    let pacer = Pacer::new(4, RateLimitHeaders::OKTA);
    let client = HttpClient::builder(&server.uri())
        .pacer(Arc::clone(&pacer))
        .build()
        .unwrap();

    client.get("/api/v1/users/u/factors", &[]).await.unwrap();
    assert_eq!(pacer.stats().pauses, 1, "30 left of 600 is the reserve");
    let started = Instant::now();
    let burst: Vec<_> = (0..4)
        .map(|_| client.get("/api/v1/users/u/factors", &[]))
        .collect();
    for r in futures::future::join_all(burst).await {
        r.unwrap();
    }
    assert!(
        chrono::Utc::now().timestamp() >= reset,
        "the burst waited for the reset ({:?})",
        started.elapsed()
    );
    assert_eq!(pacer.stats().lowest_allowed, 1);
    assert_eq!(
        peak.load(Ordering::SeqCst),
        1,
        "one request at a time near the limit"
    );

    // A copy with its own pacer shares the connection pool but not the window.
    let other = client.with_pacer(Pacer::new(4, RateLimitHeaders::GITHUB));
    other.get("/api/v1/users/u/factors", &[]).await.unwrap();
}
