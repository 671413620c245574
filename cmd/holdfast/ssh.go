package main

import (
	"log/slog"
	"net"

	"github.com/holdfast-dev/holdfast/crashhold"
	"github.com/holdfast-dev/holdfast/internal/config"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/launcher"
	"github.com/holdfast-dev/holdfast/shellsrv"
)

func sshConfig(cfg *config.Config) shellsrv.Config {
	return shellsrv.Config{
		Addr:                 cfg.SSHAddr,
		AuthorizedKeysFile:   cfg.SSHAuthorizedKeysFile,
		AuthorizedKeysInline: cfg.SSHAuthorizedKeysInline,
		HostKeyPath:          cfg.SSHHostKey,
		MaxSessions:          cfg.SSHMaxSessions,
		LoginShell:           cfg.SSHLoginShell,
	}
}

// sshAddrIfEnabled is the address the ssh server listens on: --ssh-addr when
// keys are configured, else "" (ssh is off).
func sshAddrIfEnabled(cfg *config.Config) string {
	if cfg.SSHAddr == "" || !sshConfig(cfg).Enabled() {
		return ""
	}
	return cfg.SSHAddr
}

// startSSH serves the embedded ssh server on l, which the entrypoint opened
// when keys are configured (an address that cannot be bound has already
// ended holdfast with exit 2). A key file or host key the server cannot load
// disables ssh with one clear error; the app runs regardless.
func startSSH(cfg *config.Config, l net.Listener, reaper *launcher.Reaper, store *state.Store, sup *crashhold.Supervisor, logger *slog.Logger) *shellsrv.Server {
	sc := sshConfig(cfg)
	log := logger.With("component", "ssh")
	if l == nil {
		if cfg.SSHAddr != "" {
			log.Info("ssh off: no authorized keys configured", "file", cfg.SSHAuthorizedKeysFile, "env", "HOLDFAST_SSH_AUTHORIZED_KEYS")
		}
		return nil
	}
	sc.Reaper, sc.Store, sc.AppEnv, sc.Logger = reaper, store, sup.AppEnv, logger
	// Sessions run as the app's user (--user), not as holdfast's.
	sc.Credential, sc.AllowRoot = cfg.Credential, cfg.SSHAllowRoot
	sc.AuditLog = cfg.StateDir + "/audit.log"
	srv, err := shellsrv.New(sc)
	if err != nil {
		log.Error("ssh disabled", "err", err)
		_ = l.Close()
		return nil
	}
	log.Info("ssh listening", "addr", l.Addr().String(), "host_key", srv.HostKeyFingerprint())
	go serve(log, "ssh", func() error { return srv.Serve(l) })
	return srv
}
