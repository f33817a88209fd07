//! CSRF protection: a signed double-submit cookie. A browser gets a random nonce in an
//! `HttpOnly`, `SameSite=Strict` cookie; every form carries the HMAC-SHA256 of that nonce
//! under a secret the router makes when it is built. A POST is accepted only when its form
//! token is the HMAC of its cookie's nonce (checked in constant time). No server-side session
//! is kept; another site can neither read the token nor make one (it lacks the secret), and a
//! cookie planted by a sibling subdomain is useless without its matching token.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::store::{hex, unhex};

/// The cookie's name.
pub(crate) const COOKIE: &str = "cachex_admin_csrf";

/// The form field's name.
pub(crate) const FIELD: &str = "csrf";

/// The router's secret.
pub(crate) struct Csrf {
    key: hmac::Key,
    random: SystemRandom,
}

impl Csrf {
    /// A new random secret; `None` if the system has no randomness to give.
    pub(crate) fn new() -> Option<Self> {
        let random = SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &random).ok()?;
        Some(Csrf { key, random })
    }

    /// A new nonce for a browser without one (hex).
    pub(crate) fn nonce(&self) -> Option<String> {
        let mut bytes = [0u8; 32];
        self.random.fill(&mut bytes).ok()?;
        Some(hex(&bytes))
    }

    /// The token forms carry for `nonce`.
    pub(crate) fn token(&self, nonce: &str) -> String {
        hex(hmac::sign(&self.key, nonce.as_bytes()).as_ref())
    }

    /// Whether `token` is the token of `nonce`.
    pub(crate) fn verify(&self, nonce: &str, token: &str) -> bool {
        let Some(tag) = unhex(token) else {
            return false;
        };
        !nonce.is_empty() && hmac::verify(&self.key, nonce.as_bytes(), &tag).is_ok()
    }
}

/// The nonce in a request's `Cookie` headers, if it has one of the right shape.
pub(crate) fn nonce_of(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| value.len() == 64 && unhex(value).is_some())
}
