package main

import (
	"crypto/aes"
	"crypto/cipher"
	"testing"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
	//lint:ignore SA1019 x/crypto/ssh itself uses this poly1305 for chacha20-poly1305@openssh.com; the floor measures that very code
	"golang.org/x/crypto/poly1305"
)

// The floor under holdfast's ssh throughput: what x/crypto/ssh does to
// each 32 KiB packet it sends, per cipher, without the transport around
// it. Compare with OpenSSL's (`openssl speed -seconds 2 -bytes 32768 -evp
// chacha20` and `-evp aes-128-gcm`), which sshd uses:
//
//	cd bench && go test -run - -bench Packet ./ssh
const packetSize = 32 << 10

// BenchmarkPacketChaCha20Poly1305 is chacha20-poly1305@openssh.com as
// x/crypto/ssh seals a packet: a chacha20 stream per packet (its key
// block gives the poly1305 key), the payload, then poly1305 over it.
func BenchmarkPacketChaCha20Poly1305(b *testing.B) {
	sealChaCha20(b, func(s *chacha20.Cipher, buf, _ []byte) {
		s.SetCounter(1)
		s.XORKeyStream(buf, buf)
	})
}

// BenchmarkPacketChaCha20Poly1305AEAD is the same packet as holdfast's
// patched x/crypto seals it (third_party/xcrypto.patch): the payload
// through the chacha20poly1305 AEAD (amd64 assembly; its own tag
// discarded).
func BenchmarkPacketChaCha20Poly1305AEAD(b *testing.B) {
	var key [32]byte
	aead, err := chacha20poly1305.New(key[:])
	if err != nil {
		b.Fatal(err)
	}
	sealChaCha20(b, func(_ *chacha20.Cipher, buf, nonce []byte) {
		aead.Seal(buf[:0], nonce, buf, nil)
	})
}

// sealChaCha20 seals a packet per op with a zero key and nonce: the
// poly1305 key from a new chacha20 stream's block 0, the payload by
// payload (buf has room for a tag after it), then poly1305 over it.
func sealChaCha20(b *testing.B, payload func(s *chacha20.Cipher, buf, nonce []byte)) {
	var key [32]byte
	nonce := make([]byte, chacha20.NonceSize)
	buf := make([]byte, packetSize, packetSize+16)
	var mac [16]byte
	b.SetBytes(packetSize)
	for b.Loop() {
		s, err := chacha20.NewUnauthenticatedCipher(key[:], nonce)
		if err != nil {
			b.Fatal(err)
		}
		var polyKey [32]byte
		s.XORKeyStream(polyKey[:], polyKey[:])
		payload(s, buf, nonce)
		poly1305.Sum(&mac, buf, &polyKey)
	}
}

// BenchmarkPacketChaCha20 is the chacha20 part alone (no amd64 assembly
// in x/crypto: the generic Go code).
func BenchmarkPacketChaCha20(b *testing.B) {
	var key [32]byte
	nonce := make([]byte, chacha20.NonceSize)
	buf := make([]byte, packetSize)
	b.SetBytes(packetSize)
	for b.Loop() {
		s, err := chacha20.NewUnauthenticatedCipher(key[:], nonce)
		if err != nil {
			b.Fatal(err)
		}
		s.XORKeyStream(buf, buf)
	}
}

// BenchmarkPacketPoly1305 is the poly1305 part alone (amd64 assembly).
func BenchmarkPacketPoly1305(b *testing.B) {
	var key [32]byte
	var mac [16]byte
	buf := make([]byte, packetSize)
	b.SetBytes(packetSize)
	for b.Loop() {
		poly1305.Sum(&mac, buf, &key)
	}
}

// BenchmarkPacketAES128GCM is aes128-gcm@openssh.com's seal (crypto/aes
// and crypto/cipher, with AES-NI and carry-less multiply assembly).
func BenchmarkPacketAES128GCM(b *testing.B) {
	var key [16]byte
	blk, err := aes.NewCipher(key[:])
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		b.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	buf := make([]byte, packetSize, packetSize+aead.Overhead())
	b.SetBytes(packetSize)
	for b.Loop() {
		aead.Seal(buf[:0], nonce, buf[:packetSize], nil)
	}
}
