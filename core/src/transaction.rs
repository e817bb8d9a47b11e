//! Transactions: encoding, txid, signatures, coinbase.

use alloc::vec::Vec;
use core::fmt;

use rand_core::TryCryptoRng;

use crate::address::Address;
use crate::amount::Amount;
use crate::crypto::{
    PublicKeyError, RsaPublicKey, SIGNATURE_LEN, SignatureVerifier, SigningKey, SigningKeyError,
};
use crate::encode::{Decode, DecodeError, Encode, Reader, put_length, put_u32, put_u64};
use crate::hash::{Txid, sha256};
use crate::params::Params;

/// Longest `from` field the decoder reads. A valid key is 422 bytes; longer
/// ones up to this limit decode so they can be rejected with the reason.
pub const MAX_PUBLIC_KEY_LEN: usize = 1024;

/// A transaction. A coinbase has an empty `from` and an empty `signature`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Transaction {
    /// Always [`Transaction::VERSION`].
    pub version: u32,
    /// Sender's public key, SubjectPublicKeyInfo DER; empty in a coinbase.
    pub from: Vec<u8>,
    /// Recipient.
    pub to: Address,
    /// Amount moved to the recipient.
    pub amount: Amount,
    /// Fee paid to the miner.
    pub fee: Amount,
    /// Sender's account nonce; the block height in a coinbase.
    pub nonce: u64,
    /// Milliseconds since the Unix epoch.
    pub time: u64,
    /// RSASSA-PSS signature (384 bytes); empty in a coinbase.
    pub signature: Vec<u8>,
}

/// Why a transaction is not valid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxError {
    /// The sender's key breaks a key rule.
    PublicKey(PublicKeyError),
    /// The signature does not verify.
    BadSignature,
    /// The amount is zero.
    ZeroAmount,
    /// amount + fee overflows.
    AmountOverflow,
    /// amount + fee is more than the sender's balance.
    Overspend { balance: Amount, needed: Amount },
    /// The nonce is not the sender's account nonce.
    WrongNonce { expected: u64, got: u64 },
    /// The sender's nonce would overflow.
    NonceOverflow,
    /// The recipient's balance would overflow.
    BalanceOverflow,
    /// A coinbase where only signed transactions may be.
    UnexpectedCoinbase,
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PublicKey(error) => write!(f, "sender key: {error}"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::ZeroAmount => f.write_str("amount must be greater than zero"),
            Self::AmountOverflow => f.write_str("amount + fee overflows"),
            Self::Overspend { balance, needed } => {
                write!(
                    f,
                    "amount + fee = {} units is more than the balance of {} units",
                    needed.0, balance.0
                )
            }
            Self::WrongNonce { expected, got } => {
                write!(f, "wrong nonce {got}, expected {expected}")
            }
            Self::NonceOverflow => f.write_str("sender nonce overflows"),
            Self::BalanceOverflow => f.write_str("recipient balance overflows"),
            Self::UnexpectedCoinbase => {
                f.write_str("a coinbase is only allowed as a block's first transaction")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TxError {}

impl Transaction {
    /// The only transaction version.
    pub const VERSION: u32 = 1;

    /// The coinbase of the block at `height` with time `time`.
    pub fn coinbase(to: Address, amount: Amount, height: u64, time: u64) -> Self {
        Transaction {
            version: Transaction::VERSION,
            from: Vec::new(),
            to,
            amount,
            fee: Amount::ZERO,
            nonce: height,
            time,
            signature: Vec::new(),
        }
    }

    /// A transaction from `key`, signed for the network of `params`.
    #[allow(clippy::too_many_arguments)] // reason: these are the transaction's fields
    pub fn new_signed<R: TryCryptoRng + ?Sized>(
        params: &Params,
        key: &SigningKey,
        to: Address,
        amount: Amount,
        fee: Amount,
        nonce: u64,
        time: u64,
        rng: &mut R,
    ) -> Result<Self, SigningKeyError> {
        let mut transaction = Transaction {
            version: Transaction::VERSION,
            from: key.public_key().to_spki_der(),
            to,
            amount,
            fee,
            nonce,
            time,
            signature: Vec::new(),
        };
        transaction.signature = key.sign_pss(rng, &transaction.signing_message(params))?;
        Ok(transaction)
    }

    /// True for a coinbase (no sender).
    pub fn is_coinbase(&self) -> bool {
        self.from.is_empty()
    }

    /// The encoding without the signature: what the txid hashes.
    pub fn unsigned_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 4 + self.from.len() + 20 + 32);
        put_u32(&mut out, self.version);
        put_length(&mut out, self.from.len());
        out.extend_from_slice(&self.from);
        out.extend_from_slice(&self.to.0);
        put_u64(&mut out, self.amount.0);
        put_u64(&mut out, self.fee.0);
        put_u64(&mut out, self.nonce);
        put_u64(&mut out, self.time);
        out
    }

    /// SHA-256 of the unsigned encoding.
    pub fn txid(&self) -> Txid {
        Txid(sha256(&self.unsigned_bytes()))
    }

    /// The 36 signed bytes: network magic || txid.
    pub fn signing_message(&self, params: &Params) -> [u8; 36] {
        let mut message = [0u8; 36];
        message[..4].copy_from_slice(&params.magic);
        message[4..].copy_from_slice(&self.txid().0);
        message
    }

    /// The sender's address (None for a coinbase).
    pub fn sender_address(&self) -> Option<Address> {
        (!self.is_coinbase()).then(|| Address::from_spki_der(&self.from))
    }

    /// Encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        4 + 4 + self.from.len() + 20 + 8 * 4 + 4 + self.signature.len()
    }

    /// Context-free rules of a signed transaction: key rules, amount > 0,
    /// amount + fee does not overflow, and the signature verifies.
    pub fn check_signed(
        &self,
        params: &Params,
        verifier: &dyn SignatureVerifier,
    ) -> Result<RsaPublicKey, TxError> {
        if self.is_coinbase() {
            return Err(TxError::UnexpectedCoinbase);
        }
        let key = RsaPublicKey::from_spki_der(&self.from).map_err(TxError::PublicKey)?;
        if self.amount == Amount::ZERO {
            return Err(TxError::ZeroAmount);
        }
        self.amount
            .checked_add(self.fee)
            .ok_or(TxError::AmountOverflow)?;
        if !verifier.verify_pss(&key, &self.signing_message(params), &self.signature) {
            return Err(TxError::BadSignature);
        }
        Ok(key)
    }
}

impl Encode for Transaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.unsigned_bytes());
        put_length(out, self.signature.len());
        out.extend_from_slice(&self.signature);
    }
}

impl Decode for Transaction {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = reader.u32()?;
        if version != Transaction::VERSION {
            return Err(DecodeError::UnknownVersion {
                field: "transaction",
                version,
            });
        }
        let from_len = reader.length("from", MAX_PUBLIC_KEY_LEN)?;
        let from = reader.take(from_len)?.to_vec();
        let to = Address(reader.array()?);
        let amount = Amount(reader.u64()?);
        let fee = Amount(reader.u64()?);
        let nonce = reader.u64()?;
        let time = reader.u64()?;
        let sig_len = reader.u32()?;
        // One signature length per kind: none for a coinbase, 384 bytes otherwise.
        let expected = if from.is_empty() { 0 } else { SIGNATURE_LEN };
        if sig_len as usize != expected {
            return Err(DecodeError::NonCanonical {
                field: "sig_len",
                value: sig_len.into(),
            });
        }
        let signature = reader.take(expected)?.to_vec();
        Ok(Transaction {
            version,
            from,
            to,
            amount,
            fee,
            nonce,
            time,
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coinbase() -> Transaction {
        Transaction::coinbase(
            Address([3; 20]),
            Amount(5_000_000_000),
            7,
            1_764_000_007_000,
        )
    }

    #[test]
    fn coinbase_round_trips_with_empty_from_and_signature() {
        let tx = coinbase();
        let bytes = tx.encode();
        assert_eq!(bytes.len(), tx.encoded_len());
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0]);
        assert_eq!(&bytes[bytes.len() - 4..], &[0, 0, 0, 0]);
        assert_eq!(Transaction::decode(&bytes), Ok(tx));
    }

    #[test]
    fn decoder_rejects_bad_signature_length_and_huge_from() {
        let mut bytes = coinbase().encode();
        let len = bytes.len();
        bytes[len - 4] = 1;
        bytes.push(0);
        assert_eq!(
            Transaction::decode(&bytes),
            Err(DecodeError::NonCanonical {
                field: "sig_len",
                value: 1
            })
        );
        let mut huge = coinbase().encode();
        huge[4..8].copy_from_slice(&2000u32.to_le_bytes());
        assert_eq!(
            Transaction::decode(&huge),
            Err(DecodeError::LengthOverLimit {
                field: "from",
                length: 2000,
                limit: MAX_PUBLIC_KEY_LEN as u64
            })
        );
    }

    #[test]
    fn txid_ignores_the_signature() {
        let mut tx = coinbase();
        let txid = tx.txid();
        tx.signature = alloc::vec![1; 384];
        assert_eq!(tx.txid(), txid);
    }
}
