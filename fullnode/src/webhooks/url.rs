//! Which URLs webhooks may be delivered to: loopback `http` and `https`
//! URLs always, others only under a prefix the operator allows
//! (`--webhook-allow`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Longest subscriber URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Why a URL or prefix was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Not an absolute URL.
    #[error("not an absolute URL: {0}")]
    Malformed(String),
    /// Longer than [`MAX_URL_LEN`].
    #[error("longer than {MAX_URL_LEN} characters")]
    TooLong,
    /// Not `http` or `https`.
    #[error("scheme {0:?} is not http or https")]
    Scheme(String),
    /// User name or password in the URL (the signature authenticates deliveries).
    #[error("user names and passwords are not allowed in the URL")]
    Credentials,
    /// A `#fragment` (never sent to a server).
    #[error("fragments are not allowed")]
    Fragment,
    /// A query string in an allowed prefix (prefixes match scheme, host, port and path).
    #[error("a prefix cannot have a query string")]
    PrefixQuery,
}

/// A subscriber's URL: absolute `http` or `https`, with a host, without
/// credentials or fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    /// Parses and checks a subscriber URL.
    pub fn parse(text: &str) -> Result<WebhookUrl, UrlError> {
        if text.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong);
        }
        Ok(WebhookUrl(parse_http_url(text)?))
    }

    /// The URL in its normal form.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host parsed: a domain or an IP address.
    pub fn host(&self) -> Host<&str> {
        self.0.host().expect("checked: the URL has a host")
    }

    /// Whether the host is this machine: `localhost`, 127.0.0.0/8 or ::1.
    pub fn is_loopback(&self) -> bool {
        match self.host() {
            Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
            Host::Ipv4(ip) => ip.is_loopback(),
            Host::Ipv6(ip) => IpAddr::V6(ip).to_canonical().is_loopback(),
        }
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An allowed URL prefix: a URL matches when scheme, host and port are the
/// prefix's and its path continues the prefix's path at a `/` boundary, so
/// `http://hooks.example/a` allows `http://hooks.example/a/b` but neither
/// `http://hooks.example/ab` nor `http://hooks.example.evil/a`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPrefix(Url);

impl UrlPrefix {
    /// Parses and checks an allowed prefix.
    pub fn parse(text: &str) -> Result<UrlPrefix, UrlError> {
        let url = parse_http_url(text)?;
        if url.query().is_some() {
            return Err(UrlError::PrefixQuery);
        }
        Ok(UrlPrefix(url))
    }

    /// Whether `url` falls under this prefix.
    pub fn allows(&self, url: &WebhookUrl) -> bool {
        let (prefix, url) = (&self.0, &url.0);
        if prefix.scheme() != url.scheme()
            || prefix.host() != url.host()
            || prefix.port_or_known_default() != url.port_or_known_default()
        {
            return false;
        }
        let (base, path) = (prefix.path(), url.path());
        if base.ends_with('/') {
            path.starts_with(base)
        } else {
            path == base
                || path
                    .strip_prefix(base)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
    }
}

/// The URL policy: loopback URLs, and those under an allowed prefix.
#[derive(Debug, Clone, Default)]
pub struct UrlPolicy {
    allowed: Vec<UrlPrefix>,
}

impl UrlPolicy {
    /// A policy allowing loopback URLs and those under `allowed`.
    pub fn new(allowed: &[String]) -> Result<UrlPolicy, UrlError> {
        Ok(UrlPolicy {
            allowed: allowed
                .iter()
                .map(|text| UrlPrefix::parse(text))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Whether deliveries may go to `url`.
    pub fn allows(&self, url: &WebhookUrl) -> bool {
        url.is_loopback() || self.allowed.iter().any(|prefix| prefix.allows(url))
    }

    /// Whether any allowed prefix is an `https` one.
    pub fn allows_https(&self) -> bool {
        self.allowed
            .iter()
            .any(|prefix| prefix.0.scheme() == "https")
    }
}

fn parse_http_url(text: &str) -> Result<Url, UrlError> {
    let url = Url::parse(text.trim()).map_err(|error| UrlError::Malformed(error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme(url.scheme().to_owned()));
    }
    if url.host().is_none() {
        return Err(UrlError::Malformed("no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    if url.fragment().is_some() {
        return Err(UrlError::Fragment);
    }
    // An unspecified address (0.0.0.0, ::) would reach this machine under another name.
    let unspecified = match url.host() {
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::UNSPECIFIED,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::UNSPECIFIED,
        _ => false,
    };
    if unspecified {
        return Err(UrlError::Malformed(
            "the unspecified address is no host".into(),
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> WebhookUrl {
        WebhookUrl::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    #[test]
    fn loopback_urls_are_always_allowed() {
        let policy = UrlPolicy::default();
        for text in [
            "http://127.0.0.1:9000/hook",
            "http://127.8.9.10/",
            "http://localhost:8000/a?b=c",
            "http://LOCALHOST/",
            "http://[::1]:9000/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(policy.allows(&url(text)), "{text}");
        }
        for text in [
            "http://10.0.0.1/hook",
            "http://example.com/",
            "http://localhost.example.com/",
            "http://[::2]/",
        ] {
            assert!(!policy.allows(&url(text)), "{text}");
        }
    }

    #[test]
    fn prefixes_match_scheme_host_port_and_whole_path_segments() {
        let policy = UrlPolicy::new(&[
            "http://hooks.example.com/node".into(),
            "https://10.0.0.5:8443/".into(),
        ])
        .expect("valid prefixes");
        for text in [
            "http://hooks.example.com/node",
            "http://hooks.example.com/node/",
            "http://hooks.example.com:80/node/blocks?x=1",
            "http://HOOKS.example.com/node/a",
            "https://10.0.0.5:8443/anything",
        ] {
            assert!(policy.allows(&url(text)), "{text}");
        }
        for text in [
            "http://hooks.example.com/nodes",
            "http://hooks.example.com/",
            "http://hooks.example.com.evil.net/node",
            "http://hooks.example.com:8080/node",
            "https://hooks.example.com/node",
            "http://10.0.0.5:8443/anything",
            "https://10.0.0.5/anything",
        ] {
            assert!(!policy.allows(&url(text)), "{text}");
        }
    }

    #[test]
    fn bad_urls_and_prefixes_are_refused() {
        for (text, error) in [
            ("ftp://example.com/", UrlError::Scheme("ftp".into())),
            ("http://user:pw@example.com/", UrlError::Credentials),
            ("http://example.com/#top", UrlError::Fragment),
        ] {
            assert_eq!(WebhookUrl::parse(text), Err(error), "{text}");
        }
        for text in [
            "example.com/hook",
            "http://",
            "http://a b/",
            "",
            "http://0.0.0.0/",
        ] {
            assert!(
                matches!(WebhookUrl::parse(text), Err(UrlError::Malformed(_))),
                "{text}"
            );
        }
        let long = format!("http://127.0.0.1/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(WebhookUrl::parse(&long), Err(UrlError::TooLong));
        assert_eq!(
            UrlPrefix::parse("http://example.com/a?b=c"),
            Err(UrlError::PrefixQuery)
        );
    }

    #[test]
    fn the_url_sent_is_the_normal_form() {
        for (text, sent) in [
            ("http://[::1]:9000/a/b?c=d", "http://[::1]:9000/a/b?c=d"),
            ("http://example.com:80/", "http://example.com/"),
            ("http://example.com", "http://example.com/"),
            ("https://EXAMPLE.com:443/x", "https://example.com/x"),
            (" http://localhost:8000/hook ", "http://localhost:8000/hook"),
        ] {
            assert_eq!(url(text).as_str(), sent, "{text}");
        }
    }
}
