// The protocol's numbers, named once: record types, classes, opcodes, rcodes and header flags
// (RFC 1035, RFC 6891, and the IANA DNS parameters registry).
#pragma once

#include <cstdint>

namespace nolb::dns {

namespace type {
inline constexpr std::uint16_t A = 1;
inline constexpr std::uint16_t NS = 2;
inline constexpr std::uint16_t MD = 3;
inline constexpr std::uint16_t MF = 4;
inline constexpr std::uint16_t CNAME = 5;
inline constexpr std::uint16_t SOA = 6;
inline constexpr std::uint16_t MB = 7;
inline constexpr std::uint16_t MG = 8;
inline constexpr std::uint16_t MR = 9;
inline constexpr std::uint16_t PTR = 12;
inline constexpr std::uint16_t HINFO = 13;
inline constexpr std::uint16_t MINFO = 14;
inline constexpr std::uint16_t MX = 15;
inline constexpr std::uint16_t TXT = 16;
inline constexpr std::uint16_t AAAA = 28;
inline constexpr std::uint16_t SRV = 33;
inline constexpr std::uint16_t DNAME = 39;
inline constexpr std::uint16_t OPT = 41;
inline constexpr std::uint16_t DS = 43;
inline constexpr std::uint16_t RRSIG = 46;
inline constexpr std::uint16_t TKEY = 249;
inline constexpr std::uint16_t TSIG = 250;
inline constexpr std::uint16_t IXFR = 251;
inline constexpr std::uint16_t AXFR = 252;
inline constexpr std::uint16_t MAILB = 253;
inline constexpr std::uint16_t MAILA = 254;
inline constexpr std::uint16_t ANY = 255;
}  // namespace type

namespace cls {
inline constexpr std::uint16_t IN = 1;
inline constexpr std::uint16_t CH = 3;
inline constexpr std::uint16_t NONE = 254;
inline constexpr std::uint16_t ANY = 255;
}  // namespace cls

namespace opcode {
inline constexpr std::uint8_t QUERY = 0;
inline constexpr std::uint8_t NOTIFY = 4;  // RFC 1996
}  // namespace opcode

namespace rcode {
inline constexpr std::uint16_t NOERROR = 0;
inline constexpr std::uint16_t FORMERR = 1;
inline constexpr std::uint16_t SERVFAIL = 2;
inline constexpr std::uint16_t NXDOMAIN = 3;
inline constexpr std::uint16_t NOTIMP = 4;
inline constexpr std::uint16_t REFUSED = 5;
inline constexpr std::uint16_t NOTAUTH = 9;   // RFC 8945 §5.3.2: a TSIG error
inline constexpr std::uint16_t BADVERS = 16;  // extended: needs OPT
}  // namespace rcode

// Header flag bits in the 16-bit word after the ID.
namespace flag {
inline constexpr std::uint16_t QR = 0x8000;
inline constexpr std::uint16_t OPCODE_MASK = 0x7800;
inline constexpr std::uint16_t AA = 0x0400;
inline constexpr std::uint16_t TC = 0x0200;
inline constexpr std::uint16_t RD = 0x0100;
inline constexpr std::uint16_t RA = 0x0080;
inline constexpr std::uint16_t AD = 0x0020;
inline constexpr std::uint16_t CD = 0x0010;
inline constexpr std::uint16_t RCODE_MASK = 0x000f;
}  // namespace flag

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kMaxNameSize = 255;
inline constexpr std::size_t kMaxLabelSize = 63;
inline constexpr std::uint16_t kMinUdpPayload = 512;
inline constexpr std::size_t kOptSize = 11;  // an OPT RR without options
// The most answer data a message can carry after its header, any question (a name of up to
// 255 octets, type, class) and an OPT RR: 65,535 - 12 - 259 - 11.
inline constexpr std::size_t kMaxRecordsSize = 0xffff - 12 - 255 - 4 - 11;
inline constexpr std::uint32_t kEdnsDoBit = 0x8000;

}  // namespace nolb::dns
