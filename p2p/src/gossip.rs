//! Gossipsub settings the node and the browser share.

use core::time::Duration;

use blockchain_core::block::MAX_BLOCK_SIZE;
use libp2p::gossipsub;
use sha2::{Digest, Sha256};

/// The gossip message id of a message carrying `data`: its SHA-256, so the
/// same block or transaction published by two peers is one message, seen once.
pub fn message_id_of(data: &[u8]) -> gossipsub::MessageId {
    gossipsub::MessageId::from(Sha256::digest(data).to_vec())
}

fn content_id(message: &gossipsub::Message) -> gossipsub::MessageId {
    message_id_of(&message.data)
}

/// The gossipsub configuration: signed messages, validated by the
/// application before they are forwarded, ids from the content, room for a
/// full block.
pub fn gossipsub_config() -> Result<gossipsub::Config, gossipsub::ConfigBuilderError> {
    gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Strict)
        .validate_messages()
        .message_id_fn(content_id)
        // A block is up to 1 MB; leave room for the envelope.
        .max_transmit_size(MAX_BLOCK_SIZE + 64 * 1024)
        .heartbeat_interval(Duration::from_millis(700))
        // Small networks (tests, a few nodes): publish to every subscriber.
        .flood_publish(true)
        .mesh_n_low(1)
        .mesh_outbound_min(0)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_builds_and_ids_are_content_hashes() {
        assert!(gossipsub_config().is_ok());
        let id = message_id_of(b"abc");
        assert_eq!(
            id.0,
            Sha256::digest(b"abc").to_vec(),
            "the id is the SHA-256 of the data"
        );
    }
}
