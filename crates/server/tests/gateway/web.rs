//! The dashboard's sign-in and the browser's access to the API, from outside: one-time links,
//! cookie flags, CSRF on pages and API, cross-origin and foreign-Host refusals, the CSP on every
//! HTML answer, and that the API token never reaches a browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Options, Rig, TOKEN, Ws};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use std::time::Duration;

/// A client that does not follow redirects (we look at them) and keeps no cookies (we pass ours).
fn browser() -> reqwest::Client {
    pryx_http::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn base(rig: &Rig) -> String {
    format!("http://127.0.0.1:{}", rig.port)
}

async fn login_link(rig: &Rig) -> String {
    let (status, body) = rig.post("/web/login", serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    let url = body["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("{}/login?code=", base(rig))),
        "{url}"
    );
    assert!(body["expires_at"].as_str().is_some_and(|s| !s.is_empty()));
    url
}

/// Signs a browser in: returns the `name=value` cookie pair and the page's CSRF token.
async fn sign_in(rig: &Rig) -> (String, String) {
    let res = browser().get(login_link(rig).await).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(res.headers());
    let pair = cookie.split(';').next().unwrap().trim().to_string();
    let html = page(rig, &pair, "/settings").await.1;
    let csrf = html
        .split("name=\"csrf-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert!(!csrf.is_empty());
    (pair, csrf)
}

fn set_cookie(h: &HeaderMap) -> String {
    h.get(SET_COOKIE).unwrap().to_str().unwrap().to_string()
}

async fn page(rig: &Rig, cookie: &str, path: &str) -> (StatusCode, String, HeaderMap) {
    let res = browser()
        .get(format!("{}{path}", base(rig)))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    (status, res.text().await.unwrap(), headers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_link_works_once_and_leaves_a_strict_http_only_cookie() {
    let rig = Rig::start().await;
    let url = login_link(&rig).await;
    let res = browser().get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The code leaves the address bar: the redirect target carries nothing.
    assert_eq!(res.headers().get(LOCATION).unwrap(), "/");
    let cookie = set_cookie(res.headers());
    let name = format!("pryx_session_{}=", rig.port);
    assert!(cookie.starts_with(&name), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_string();
    let (status, _, _) = page(&rig, &pair, "/settings").await;
    assert_eq!(status, StatusCode::OK);
    // The same link again: refused, no cookie.
    let again = browser().get(&url).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(again.headers().get(SET_COOKIE).is_none());
    assert!(again.text().await.unwrap().contains("pryx dashboard"));
    // No cookie: the sign-in page, not the settings.
    let (status, html, _) = page(&rig, "", "/settings").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("pryx dashboard"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_link_is_refused() {
    let rig = Rig::with(Options {
        login_code_lifetime: Duration::ZERO,
        ..Options::default()
    })
    .await;
    let res = browser().get(login_link(&rig).await).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get(SET_COOKIE).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_codes_is_rate_limited_on_loopback_too() {
    let rig = Rig::start().await;
    let url = login_link(&rig).await;
    let mut statuses = Vec::new();
    for n in 0..12 {
        let res = browser()
            .get(format!("{}/login?code={n:032x}", base(&rig)))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
    // While blocked, even a right code is refused (and stays unused).
    let res = browser().get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_token_mints_links_and_a_browser_never_sees_the_token() {
    let rig = Rig::start().await;
    let (cookie, csrf) = sign_in(&rig).await;
    let res = browser()
        .post(rig.url("/web/login"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = browser().post(rig.url("/web/login")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Every page and every asset a browser can load.
    let mut bodies = Vec::new();
    for path in [
        "/",
        "/settings",
        "/chat",
        "/sessions",
        "/approvals",
        "/welcome",
    ] {
        bodies.push(page(&rig, &cookie, path).await.1);
        bodies.push(page(&rig, "", path).await.1);
    }
    for asset in pryx_web::assets::ASSETS {
        let res = browser()
            .get(format!("{}/assets/{}", base(&rig), asset.path))
            .header("accept-encoding", "identity")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{}", asset.path);
        let cc = res
            .headers()
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(cc.contains("immutable"), "{cc}");
        bodies.push(String::from_utf8_lossy(&res.bytes().await.unwrap()).into_owned());
    }
    for body in &bodies {
        assert!(!body.contains(TOKEN), "the API token reached a browser");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_come_compressed_when_the_browser_accepts_it() {
    let rig = Rig::start().await;
    let css = pryx_web::assets::ASSETS
        .iter()
        .find(|a| a.name == "app.css")
        .unwrap();
    let url = format!("{}/assets/{}", base(&rig), css.path);
    for (accept, want) in [
        ("br, gzip", Some("br")),
        ("gzip", Some("gzip")),
        ("identity", None),
    ] {
        let res = browser()
            .get(&url)
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        let got = res
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(got.as_deref(), want, "{accept}");
    }
    let stale = browser()
        .get(format!("{}/assets/app.000000000000.css", base(&rig)))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_html_answer_carries_a_strict_csp() {
    let rig = Rig::start().await;
    let (cookie, _) = sign_in(&rig).await;
    for c in [cookie.as_str(), ""] {
        for path in [
            "/",
            "/login",
            "/login?code=nope",
            "/settings",
            "/chat",
            "/sessions",
            "/approvals",
            "/welcome",
        ] {
            let (_, _, headers) = page(&rig, c, path).await;
            let csp = headers
                .get("content-security-policy")
                .unwrap_or_else(|| panic!("no CSP on {path}"))
                .to_str()
                .unwrap();
            for must in [
                "default-src 'none'",
                "script-src 'self'",
                "frame-ancestors 'none'",
                "connect-src 'self'",
            ] {
                assert!(csp.contains(must), "{path}: {csp}");
            }
            assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
            assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
            assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_need_the_csrf_token_on_pages_and_api() {
    let rig = Rig::start().await;
    let (cookie, csrf) = sign_in(&rig).await;
    let (_, other_csrf) = sign_in(&rig).await;
    let api = |method: Method, token: Option<&str>| {
        let mut req = browser()
            .request(method, rig.url("/sessions"))
            .header("cookie", &cookie)
            .json(&serde_json::json!({}));
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        req.send()
    };
    // Reading is fine with the cookie alone.
    assert_eq!(api(Method::GET, None).await.unwrap().status(), 200);
    assert_eq!(api(Method::POST, None).await.unwrap().status(), 403);
    assert_eq!(api(Method::POST, Some("")).await.unwrap().status(), 403);
    // Another browser's token is foreign here.
    assert_eq!(
        api(Method::POST, Some(&other_csrf)).await.unwrap().status(),
        403
    );
    let ok = api(Method::POST, Some(&csrf)).await.unwrap();
    assert_ne!(ok.status(), 403, "{:?}", ok.text().await);
    // A dashboard form: the token as `_csrf`.
    let form = |body: String| {
        browser()
            .post(format!("{}/logout", base(&rig)))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    assert_eq!(form(String::new()).await.unwrap().status(), 403);
    assert_eq!(
        form(format!("_csrf={other_csrf}")).await.unwrap().status(),
        403
    );
    let out = form(format!("_csrf={csrf}")).await.unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(out.headers()).contains("Max-Age=0"));
    // Signed out: the cookie no longer opens the API.
    assert_eq!(api(Method::GET, None).await.unwrap().status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_and_foreign_hosts_are_refused() {
    let rig = Rig::start().await;
    let (cookie, csrf) = sign_in(&rig).await;
    for (header, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("host", "evil.example"),
    ] {
        for path in ["/api/v1/sessions", "/logout"] {
            let res = browser()
                .post(format!("{}{path}", base(&rig)))
                .header("cookie", &cookie)
                .header("x-csrf-token", &csrf)
                .header(header, value)
                .json(&serde_json::json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{path} with {header}: {value}");
        }
    }
    // The WebSocket: the cookie opens it only from the dashboard's own origin.
    let own = base(&rig);
    assert!(
        Ws::connect(rig.port, &[("cookie", &cookie), ("origin", &own)], "")
            .await
            .is_ok()
    );
    for headers in [
        vec![("cookie", cookie.as_str())],
        vec![
            ("cookie", cookie.as_str()),
            ("origin", "http://evil.example"),
        ],
    ] {
        assert!(Ws::connect(rig.port, &headers, "").await.is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_browser_is_signed_out() {
    let rig = Rig::start().await;
    let (cookie, csrf) = sign_in(&rig).await;
    let (other, _) = sign_in(&rig).await;
    let html = page(&rig, &cookie, "/settings").await.1;
    // Two browsers listed; revoke the other one.
    let ids: Vec<&str> = html
        .split("/settings/browsers/")
        .skip(1)
        .map(|rest| rest.split('/').next().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{html}");
    // The row marked "(this browser)" holds this browser's revoke form.
    let mine = html
        .split("(this browser)")
        .nth(1)
        .and_then(|rest| rest.split("/settings/browsers/").nth(1))
        .and_then(|rest| rest.split('/').next())
        .unwrap();
    let theirs = ids.iter().find(|id| **id != mine).unwrap();
    let revoke = |id: String| {
        browser()
            .post(format!("{}/settings/browsers/{id}/revoke", base(&rig)))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={csrf}"))
            .send()
    };
    let res = revoke(theirs.to_string()).await.unwrap();
    assert_eq!(res.headers().get(LOCATION).unwrap(), "/settings");
    assert_eq!(page(&rig, &other, "/settings").await.0, 401);
    assert_eq!(page(&rig, &cookie, "/settings").await.0, 200);
    // Revoking itself signs this browser out and sends it to the front door.
    let res = revoke(mine.to_string()).await.unwrap();
    assert_eq!(res.headers().get(LOCATION).unwrap(), "/");
    assert_eq!(page(&rig, &cookie, "/settings").await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_browser_cannot_manage_api_keys() {
    let rig = Rig::start().await;
    let (cookie, csrf) = sign_in(&rig).await;
    let list = browser()
        .get(rig.url("/api-keys"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::UNAUTHORIZED);
    let create = browser()
        .post(rig.url("/api-keys"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"name": "from a page"}))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), StatusCode::UNAUTHORIZED);
    assert!(rig.core.store().list_api_keys().unwrap().is_empty());
}
