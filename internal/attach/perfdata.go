package attach

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// The hsperfdata file (HotSpot's perfMemory.hpp) starts with a prologue:
//
//	magic 0xcafec0c0 (always big-endian) | byte order (0 big, 1 little) |
//	major | minor | accessible | used u32 | overflow u32 |
//	mod time stamp u64 | entry offset u32 | entry count u32
//
// followed by entries, each:
//
//	entry length u32 | name offset u32 | vector length u32 |
//	data type u8 | flags u8 | units u8 | variability u8 | data offset u32
//
// with offsets relative to the entry's start, the name NUL-terminated, and
// a string stored as a byte vector ('B') that is NUL-terminated.
const (
	perfMagic        = 0xcafec0c0
	perfPrologueSize = 32
	perfEntrySize    = 20
	perfTypeByte     = 'B'
)

var errPerfFormat = errors.New("not an hsperfdata file")

// perfString returns the string counter name from the hsperfdata bytes b.
func perfString(b []byte, name string) (string, error) {
	if len(b) < perfPrologueSize || binary.BigEndian.Uint32(b) != perfMagic {
		return "", errPerfFormat
	}
	var order binary.ByteOrder = binary.BigEndian
	if b[4] == 1 {
		order = binary.LittleEndian
	}
	used := int(order.Uint32(b[8:]))
	off := int(order.Uint32(b[24:]))
	count := int(order.Uint32(b[28:]))
	if used > len(b) || used < perfPrologueSize {
		used = len(b)
	}
	for i := 0; i < count; i++ {
		if off < perfPrologueSize || off+perfEntrySize > used {
			return "", fmt.Errorf("%w: entry %d at %d is outside %d bytes", errPerfFormat, i, off, used)
		}
		e := b[off:used]
		length := int(order.Uint32(e[0:]))
		nameOff := int(order.Uint32(e[4:]))
		vecLen := int(order.Uint32(e[8:]))
		dataType := e[12]
		dataOff := int(order.Uint32(e[16:]))
		if length < perfEntrySize || length > len(e) || nameOff >= length || dataOff > length {
			return "", fmt.Errorf("%w: entry %d at %d is malformed", errPerfFormat, i, off)
		}
		entry := e[:length]
		n := entry[nameOff:]
		if j := bytes.IndexByte(n, 0); j >= 0 {
			n = n[:j]
		}
		if string(n) == name {
			if dataType != perfTypeByte || vecLen == 0 || dataOff+vecLen > length {
				return "", fmt.Errorf("%s is not a string counter", name)
			}
			v := entry[dataOff : dataOff+vecLen]
			if j := bytes.IndexByte(v, 0); j >= 0 {
				v = v[:j]
			}
			return string(v), nil
		}
		off += length
	}
	return "", fmt.Errorf("%s not found", name)
}
