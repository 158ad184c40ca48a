//! The trace as a packet capture in pcapng format, for Wireshark, tshark
//! and tcpdump.
//!
//! The capture is taken on the wire as each packet leaves its sender: one
//! frame per trace message, in the order sent, stamped with its send time.
//! Lost packets are in it too (they did leave), with a packet comment
//! saying they never arrived. Virtual time zero is 2000-01-01 00:00:00 UTC
//! and stamps have nanosecond resolution, so the capture is the same on
//! every run. The section header's comment holds the title and the
//! provenance; each remark is a comment of its packet.
//!
//! Frames are Ethernet II with IPv4 ([`frame`]); TCP segments carry the
//! trace's ports, numbers, flags, window and MSS option and their payload
//! octets exactly; UDP datagrams carry DNS messages in wire format
//! ([`dns`]). Every checksum is computed.
//!
//! [`render`] writes a whole trace; [`Stream`] writes the same bytes while
//! the run goes on, as the [`Sink`] of the run. It attaches no remarks,
//! which are matched against a whole run.

pub mod dns;
pub mod frame;

use std::borrow::Cow;
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};

use crate::provenance::Provenance;
use crate::sim::sink::Sink;
use crate::trace::{Delivery, LifelineEvent, MailOutcome, Message, Trace};

/// Seconds from the Unix epoch to virtual time zero: 2000-01-01 00:00:00 UTC.
pub const EPOCH_SECONDS: u64 = 946_684_800;

/// The timestamp resolution of the interface: 10^-9 s (pcapng `if_tsresol`).
const NANOSECOND_RESOLUTION: u8 = 9;

/// The longest text a pcapng option can hold, in octets.
const MAX_OPTION_LEN: usize = u16::MAX as usize;

/// Why a capture could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    /// A DNS message could not be encoded.
    #[error("message {index}: the DNS message cannot be encoded: {source}")]
    Dns {
        /// The message's index in the trace.
        index: usize,
        /// What the encoder said.
        source: hickory_proto::ProtoError,
    },
    /// A frame could not be built.
    #[error("message {index}: the packet cannot be built: {source}")]
    Frame {
        /// The message's index in the trace.
        index: usize,
        /// What went wrong.
        source: frame::FrameError,
    },
    /// The pcapng blocks could not be written.
    #[error("the capture file cannot be written: {0}")]
    File(#[from] pcap_file::PcapError),
}

/// Renders the trace as the bytes of a pcapng file.
pub fn render(trace: &Trace, provenance: &Provenance) -> Result<Vec<u8>, PcapError> {
    let mut writer =
        PcapNgWriter::with_section_header(Vec::new(), section_header(&trace.title, provenance))?;
    writer.write_pcapng_block(interface())?;
    let mut ip_ids = frame::IpIds::default();
    for message in &trace.messages {
        writer.write_pcapng_block(packet(message, &mut ip_ids)?)?;
    }
    Ok(writer.into_inner())
}

/// Writes the capture as a run hands over its messages.
pub struct Stream<W: std::io::Write> {
    writer: PcapNgWriter<W>,
    ip_ids: frame::IpIds,
    error: Option<PcapError>,
}

impl<W: std::io::Write> Stream<W> {
    /// Starts the file: the section header and the interface.
    pub fn new(out: W, title: &str, provenance: &Provenance) -> Result<Stream<W>, PcapError> {
        let mut writer = PcapNgWriter::with_section_header(out, section_header(title, provenance))?;
        writer.write_pcapng_block(interface())?;
        Ok(Stream {
            writer,
            ip_ids: frame::IpIds::default(),
            error: None,
        })
    }

    /// Returns the writer, or the first error met.
    pub fn finish(self) -> Result<W, PcapError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.writer.into_inner()),
        }
    }
}

impl<W: std::io::Write> Sink for Stream<W> {
    fn message(&mut self, message: &Message) {
        if self.error.is_some() {
            return;
        }
        let written = packet(message, &mut self.ip_ids)
            .and_then(|block| Ok(self.writer.write_pcapng_block(block)?));
        if let Err(error) = written {
            self.error = Some(error);
        }
    }

    fn lifeline_event(&mut self, _event: LifelineEvent) {}

    fn delivery(&mut self, _delivery: Delivery) {}

    fn outcome(&mut self, _outcome: MailOutcome) {}
}

/// Describes the capture: little-endian, with the title and provenance.
fn section_header(title: &str, provenance: &Provenance) -> SectionHeaderBlock<'static> {
    let mut comment = vec![title.to_string()];
    comment.extend(provenance.comment_lines("pcap"));
    let application = format!("seqsim {}", provenance.seqsim_version);
    SectionHeaderBlock {
        endianness: pcap_file::Endianness::Little,
        options: vec![
            SectionHeaderOption::Comment(Cow::Owned(fit_option(&comment.join("\n")))),
            SectionHeaderOption::UserApplication(Cow::Owned(application)),
        ],
        ..Default::default()
    }
}

/// Describes the one interface every frame is seen on.
fn interface() -> InterfaceDescriptionBlock<'static> {
    let description = "the simulated network, each packet seen as it leaves its sender";
    InterfaceDescriptionBlock {
        linktype: DataLink::ETHERNET,
        snaplen: 0,
        options: vec![
            InterfaceDescriptionOption::IfName(Cow::Borrowed("seqsim")),
            InterfaceDescriptionOption::IfDescription(Cow::Borrowed(description)),
            InterfaceDescriptionOption::IfTsResol(NANOSECOND_RESOLUTION),
        ],
    }
}

/// Builds the packet block of one message.
fn packet<'a>(
    message: &Message,
    ip_ids: &mut frame::IpIds,
) -> Result<EnhancedPacketBlock<'a>, PcapError> {
    let index = message.index;
    let payload = match &message.dns {
        Some(fields) => dns::encode(fields).map_err(|source| PcapError::Dns { index, source })?,
        None => message.payload_bytes(),
    };
    let ip_id = ip_ids.next_for(message.src_address);
    let data = frame::build(message, &payload, ip_id)
        .map_err(|source| PcapError::Frame { index, source })?;
    let sent = Duration::from_nanos(message.sent_at.as_nanos());
    Ok(EnhancedPacketBlock {
        interface_id: 0,
        timestamp: Duration::from_secs(EPOCH_SECONDS) + sent,
        original_len: data.len() as u32,
        data: Cow::Owned(data),
        options: packet_comments(message),
    })
}

/// Returns the packet's comments: its remark, and a note if it was lost.
fn packet_comments<'a>(message: &Message) -> Vec<EnhancedPacketOption<'a>> {
    let lost = message
        .received_at
        .is_none()
        .then(|| format!("lost: this packet never reached {}", message.dst_address));
    [message.remark.clone(), lost]
        .into_iter()
        .flatten()
        .map(|text| EnhancedPacketOption::Comment(Cow::Owned(fit_option(&text))))
        .collect()
}

/// Cuts text to what one pcapng option can hold, at a character boundary.
fn fit_option(text: &str) -> String {
    if text.len() <= MAX_OPTION_LEN {
        return text.to_string();
    }
    let mut end = MAX_OPTION_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}
