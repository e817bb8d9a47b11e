//! Wrong passwords for node-side wallets (`POST /wallet/{address}/send`)
//! are limited per wallet and per client: after [`MAX_WRONG`] in a minute,
//! every attempt on that wallet, or from that client, is refused with 429
//! and `Retry-After` until the minute ends, before any key work. Each
//! attempt that is let through costs the full PBKDF2 (600,000 rounds).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use blockchain_core::Address;

/// Wrong passwords allowed per wallet, and per client, in one window.
pub(super) const MAX_WRONG: u32 = 5;
const WINDOW: Duration = Duration::from_secs(60);
/// Wallets and clients tracked at most; when full (after dropping ended
/// windows), attempts from untracked ones are refused until room is made.
const MAX_TRACKED: usize = 10_000;

use super::rate_limit::ClientGroup;

/// Who a wrong password is counted against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Subject {
    Wallet(Address),
    /// An IPv4 address or an IPv6 /64, as the rate limiter groups them.
    Client(ClientGroup),
}

fn client_of(ip: IpAddr) -> Subject {
    Subject::Client(ClientGroup::of(ip))
}

/// Wrong-password windows: when each began, how many were wrong.
#[derive(Debug, Default)]
pub struct PasswordAttempts {
    windows: Mutex<HashMap<Subject, (Instant, u32)>>,
}

impl PasswordAttempts {
    /// Seconds to wait when `wallet` or `client` is locked out now.
    pub(super) fn locked_for(
        &self,
        wallet: &Address,
        client: Option<IpAddr>,
        now: Instant,
    ) -> Option<u64> {
        let mut windows = self.windows.lock().expect("never poisoned");
        let subjects = [Some(Subject::Wallet(*wallet)), client.map(client_of)];
        let mut wait = None;
        for subject in subjects.into_iter().flatten() {
            let Some(&(start, wrong)) = windows.get(&subject) else {
                if windows.len() >= MAX_TRACKED {
                    windows.retain(|_, (start, _)| now.saturating_duration_since(*start) < WINDOW);
                    if windows.len() >= MAX_TRACKED {
                        wait = Some(WINDOW.as_secs());
                    }
                }
                continue;
            };
            let elapsed = now.saturating_duration_since(start);
            if elapsed >= WINDOW {
                windows.remove(&subject);
            } else if wrong >= MAX_WRONG {
                let left = WINDOW.saturating_sub(elapsed).as_secs().max(1);
                wait = Some(wait.map_or(left, |wait: u64| wait.max(left)));
            }
        }
        wait
    }

    /// Counts a wrong password against `wallet` and `client`.
    pub(super) fn wrong(&self, wallet: &Address, client: Option<IpAddr>, now: Instant) {
        let mut windows = self.windows.lock().expect("never poisoned");
        let subjects = [Some(Subject::Wallet(*wallet)), client.map(client_of)];
        for subject in subjects.into_iter().flatten() {
            if !windows.contains_key(&subject) && windows.len() >= MAX_TRACKED {
                continue;
            }
            let (start, wrong) = windows.entry(subject).or_insert((now, 0));
            if now.saturating_duration_since(*start) >= WINDOW {
                *start = now;
                *wrong = 0;
            }
            *wrong += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wallet(byte: u8) -> Address {
        Address([byte; 20])
    }

    #[test]
    fn five_wrong_passwords_lock_the_wallet_and_the_client_for_the_minute() {
        let attempts = PasswordAttempts::default();
        let start = Instant::now();
        let client: IpAddr = [203, 0, 113, 7].into();
        for _ in 0..MAX_WRONG {
            assert_eq!(attempts.locked_for(&wallet(1), Some(client), start), None);
            attempts.wrong(&wallet(1), Some(client), start);
        }
        let later = start + Duration::from_secs(20);
        assert_eq!(
            attempts.locked_for(&wallet(1), Some(client), later),
            Some(40)
        );
        // The wallet from anywhere, and the client on any wallet.
        let elsewhere: IpAddr = [198, 51, 100, 1].into();
        assert_eq!(
            attempts.locked_for(&wallet(1), Some(elsewhere), later),
            Some(40)
        );
        assert_eq!(
            attempts.locked_for(&wallet(2), Some(client), later),
            Some(40)
        );
        assert_eq!(
            attempts.locked_for(&wallet(2), Some(elsewhere), later),
            None
        );
        // A new minute, new tries.
        let next = start + WINDOW;
        assert_eq!(attempts.locked_for(&wallet(1), Some(client), next), None);
    }

    #[test]
    fn the_addresses_of_one_ipv6_64_are_one_client() {
        let attempts = PasswordAttempts::default();
        let start = Instant::now();
        for host in 0..u128::from(MAX_WRONG) {
            let ip = IpAddr::V6((0x2001_0db8_0000_0001u128 << 64 | host).into());
            attempts.wrong(&wallet(u8::try_from(host).expect("small")), Some(ip), start);
        }
        let ip = IpAddr::V6((0x2001_0db8_0000_0001u128 << 64 | 999).into());
        assert!(attempts.locked_for(&wallet(9), Some(ip), start).is_some());
    }
}
