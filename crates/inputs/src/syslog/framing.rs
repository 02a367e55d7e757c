//! Syslog over a stream (RFC 6587): each message is either octet-counted (`LEN SP MSG`,
//! what RFC 5425 and rsyslog's `TCP_Framing="octet-counted"` send) or ends at a newline
//! (what `logger --tcp` and most BSD senders send). The first byte of each frame tells
//! which: a digit followed by a space starts a count, anything else a line.

use memchr::memchr;

/// Splits a stream into messages, keeping the partial frame between reads.
#[derive(Debug)]
pub struct Framer {
    buffer: Vec<u8>,
    max_message: usize,
    skip: Skip,
}

/// The rest of an oversized message, still to be passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    Nothing,
    /// This many bytes of an octet-counted frame.
    Bytes(usize),
    /// Up to the next newline.
    Line,
}

/// A message found in the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole message.
    Message(Vec<u8>),
    /// A message longer than the limit, cut to it; the rest is passed over.
    Truncated(Vec<u8>),
}

impl Framer {
    /// A framer cutting messages at `max_message` bytes.
    pub fn new(max_message: usize) -> Framer {
        Framer {
            buffer: Vec::new(),
            max_message: max_message.max(1),
            skip: Skip::Nothing,
        }
    }

    /// Takes bytes read from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete frame, if the bytes so far hold one.
    pub fn next_frame(&mut self) -> Option<Frame> {
        match self.skip {
            Skip::Nothing => {}
            Skip::Bytes(left) => {
                let dropped = left.min(self.buffer.len());
                self.buffer.drain(..dropped);
                if dropped < left {
                    self.skip = Skip::Bytes(left - dropped);
                    return None;
                }
                self.skip = Skip::Nothing;
            }
            Skip::Line => match memchr(b'\n', &self.buffer) {
                Some(end) => {
                    self.buffer.drain(..=end);
                    self.skip = Skip::Nothing;
                }
                None => {
                    self.buffer.clear();
                    return None;
                }
            },
        }
        // Blank lines and stray terminators between frames carry nothing.
        let start = self
            .buffer
            .iter()
            .position(|byte| !matches!(byte, b'\n' | b'\r' | b'\0'))
            .unwrap_or(self.buffer.len());
        self.buffer.drain(..start);
        if self.buffer.is_empty() {
            return None;
        }
        let digits = self
            .buffer
            .iter()
            .take(10)
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if digits > 0 && digits < 10 {
            match self.buffer.get(digits) {
                // The count is still arriving.
                None => return None,
                Some(b' ') => return self.octet_counted(digits),
                Some(_) => {}
            }
        }
        self.newline_framed()
    }

    /// `LEN SP MSG`, once the buffer holds it (or, when it is too long, its first
    /// `max_message` bytes).
    fn octet_counted(&mut self, digits: usize) -> Option<Frame> {
        let length: usize = std::str::from_utf8(&self.buffer[..digits])
            .ok()?
            .parse()
            .ok()?;
        let start = digits + 1;
        let end = start + length;
        if length <= self.max_message {
            if self.buffer.len() < end {
                return None;
            }
            let message = self.buffer[start..end].to_vec();
            self.buffer.drain(..end);
            return Some(Frame::Message(message));
        }
        if self.buffer.len() < start + self.max_message {
            return None;
        }
        let kept = self.buffer[start..start + self.max_message].to_vec();
        if self.buffer.len() >= end {
            self.buffer.drain(..end);
        } else {
            self.skip = Skip::Bytes(end - self.buffer.len());
            self.buffer.clear();
        }
        Some(Frame::Truncated(kept))
    }

    /// A message ending at a newline.
    fn newline_framed(&mut self) -> Option<Frame> {
        match memchr(b'\n', &self.buffer) {
            Some(end) if end <= self.max_message => {
                let mut message: Vec<u8> = self.buffer.drain(..=end).collect();
                message.pop();
                if message.last() == Some(&b'\r') {
                    message.pop();
                }
                Some(Frame::Message(message))
            }
            Some(end) => {
                let kept = self.buffer[..self.max_message].to_vec();
                self.buffer.drain(..=end);
                Some(Frame::Truncated(kept))
            }
            None if self.buffer.len() > self.max_message => {
                let kept = self.buffer[..self.max_message].to_vec();
                self.buffer.clear();
                self.skip = Skip::Line;
                Some(Frame::Truncated(kept))
            }
            None => None,
        }
    }

    /// What is left when the stream ends: a last message without its newline.
    pub fn finish(&mut self) -> Option<Frame> {
        if self.skip != Skip::Nothing {
            return None;
        }
        let rest = std::mem::take(&mut self.buffer);
        let trimmed = rest.trim_ascii();
        (!trimmed.is_empty()).then(|| Frame::Message(trimmed.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut Framer) -> Vec<Frame> {
        std::iter::from_fn(|| framer.next_frame()).collect()
    }

    fn message(text: &str) -> Frame {
        Frame::Message(text.as_bytes().to_vec())
    }

    #[test]
    fn both_framings_in_one_stream_across_reads() {
        let mut framer = Framer::new(1024);
        let stream = b"<13>first line\n11 <13>counted15 <13>has\nnewline<13>last\r\n\n";
        // Byte by byte: every split point between reads.
        let mut found = Vec::new();
        for byte in stream {
            framer.extend(&[*byte]);
            found.extend(frames(&mut framer));
        }
        assert_eq!(
            found,
            vec![
                message("<13>first line"),
                message("<13>counted"),
                message("<13>has\nnewline"),
                message("<13>last"),
            ]
        );
        assert_eq!(framer.finish(), None);
    }

    #[test]
    fn a_line_starting_with_digits_is_a_line() {
        let mut framer = Framer::new(1024);
        framer.extend(b"2026-12-07 started\n404x\n");
        assert_eq!(
            frames(&mut framer),
            vec![message("2026-12-07 started"), message("404x")]
        );
        framer.extend(b"no newline at the end");
        assert_eq!(frames(&mut framer), vec![]);
        assert_eq!(framer.finish(), Some(message("no newline at the end")));
    }

    #[test]
    fn oversized_messages_are_cut_and_the_stream_goes_on() {
        let mut framer = Framer::new(4);
        framer.extend(b"10 abcdef");
        assert_eq!(
            frames(&mut framer),
            vec![Frame::Truncated(b"abcd".to_vec())]
        );
        framer.extend(b"ghij3 xyz");
        assert_eq!(frames(&mut framer), vec![message("xyz")]);
        framer.extend(b"a very long line");
        assert_eq!(
            frames(&mut framer),
            vec![Frame::Truncated(b"a ve".to_vec())]
        );
        framer.extend(b" goes on\nok\n");
        assert_eq!(frames(&mut framer), vec![message("ok")]);
    }
}
