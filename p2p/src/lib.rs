//! The libp2p pieces of BlockChain's peer-to-peer protocol that the full
//! node and the browser light client share: the protocol and topic names
//! of DESIGN §4 (a contract), the request-response codec of the sync
//! protocol, and the gossipsub settings both sides must agree on.
//!
//! Consensus encoding and the sync messages themselves live in
//! `blockchain_core::sync_message`; this crate only frames them on libp2p
//! streams.

mod codec;
mod gossip;
mod names;

pub use codec::SyncCodec;
pub use gossip::{gossipsub_config, message_id_of};
pub use names::{ProtocolNameError, ProtocolNames};
