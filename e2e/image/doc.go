// Package image builds the holdfast container image without a Docker engine, from the
// same file list as deploy/docker/Dockerfile (deploy/docker/files.txt), and turns it into
// what a runtime needs: an OCI layout or a docker-save tarball for an image store, or an
// unpacked rootfs for runc.
//
// It owns: the image's layers and config (entrypoint, cmd, stop signal, volume, user,
// ports), mirrored from the Dockerfile's final stages; BusyboxBase, a tiny base image
// whose JDK is the host's, bind-mounted read-only at the same paths (HostJDK names them);
// and Unpack, which applies layers bottom-up as an overlay would.
//
// It must not: run containers or talk to a runtime (the e2e tests do that), reach a
// registry or the network, or read the Dockerfile (the e2e test parses it independently
// and compares, so a drift between the two fails a test rather than being copied).
package image
