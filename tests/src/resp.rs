//! The few lines of RESP the harness needs: encode one command as an array of bulk strings, read
//! back exactly one complete reply and hand it over as the raw bytes the server sent.
//!
//! Only the health check and [`Server::command`](crate::Server::command) use it; the cachex
//! backends under test have their own client.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Sends one command to `addr` on a fresh connection and returns its complete reply as text
/// (lossy UTF-8), exactly as sent: `+PONG\r\n`, `:0\r\n`, `$1\r\nv\r\n`, `-ERR ...\r\n`, and so on.
///
/// `timeout` bounds the connect, every write and every read.
pub(crate) fn request<A: AsRef<[u8]>>(
    addr: SocketAddr,
    args: &[A],
    timeout: Duration,
) -> io::Result<String> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    (&stream).write_all(&encode(args))?;
    let mut reader = BufReader::new(&stream);
    let mut reply = Vec::new();
    read_reply(&mut reader, &mut reply)?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// Encodes a command as RESP: an array of bulk strings.
pub(crate) fn encode<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        let arg = arg.as_ref();
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one complete reply (arrays and maps included, recursively), appending its raw bytes to
/// `out`. Understands RESP2 and the RESP3 types, although the harness never switches to RESP3.
pub(crate) fn read_reply(reader: &mut impl BufRead, out: &mut Vec<u8>) -> io::Result<()> {
    let start = out.len();
    let read = reader.read_until(b'\n', out)?;
    let line = &out[start..];
    if read == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before a reply",
        ));
    }
    if !line.ends_with(b"\r\n") || line.len() < 3 {
        return Err(invalid(line));
    }
    let kind = line[0];
    let body = &line[1..line.len() - 2];
    match kind {
        // Simple string, error, integer, null, boolean, double, big number.
        b'+' | b'-' | b':' | b'_' | b'#' | b',' | b'(' => Ok(()),
        // Bulk string, bulk error, verbatim string: a length, then that many bytes and CRLF.
        b'$' | b'!' | b'=' => {
            let len = number(body).ok_or_else(|| invalid(line))?;
            if len >= 0 {
                let len = usize::try_from(len).map_err(|_| invalid(line))?;
                let at = out.len();
                out.resize(at + len + 2, 0);
                reader.read_exact(&mut out[at..])?;
            }
            Ok(())
        }
        // Array, set, push: that many replies. Map, attribute: twice that many.
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let len = number(body).ok_or_else(|| invalid(line))?;
            let items = if matches!(kind, b'%' | b'|') {
                len * 2
            } else {
                len
            };
            for _ in 0..items.max(0) {
                read_reply(reader, out)?;
            }
            // An attribute decorates the reply that follows it.
            if kind == b'|' {
                read_reply(reader, out)?;
            }
            Ok(())
        }
        _ => Err(invalid(line)),
    }
}

/// Parses the decimal length of a bulk string or an aggregate.
fn number(body: &[u8]) -> Option<i64> {
    std::str::from_utf8(body).ok()?.parse().ok()
}

/// The error for a line that is not RESP.
fn invalid(line: &[u8]) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("not a RESP reply: {:?}", String::from_utf8_lossy(line)),
    )
}
