package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
)

// runEtcd serves one etcd member in this process, with the flags of etcd's own command that a
// single-member test cluster needs.
func runEtcd() int {
	flags := flag.NewFlagSet("etcd", flag.ContinueOnError)
	dataDir := flags.String("data-dir", "default.etcd", "path to the data directory")
	clientURL := flags.String("listen-client-urls", "http://127.0.0.1:2379", "URL to listen on for clients")
	advertise := flags.String("advertise-client-urls", "", "client URL to advertise (default: the listen URL)")
	peerURL := flags.String("listen-peer-urls", "http://127.0.0.1:2380", "URL to listen on for peers")
	noFsync := flags.Bool("unsafe-no-fsync", false, "disable fsync (unsafe: for tests)")
	quota := flags.Int64("quota-backend-bytes", 0, "backend size quota in bytes (0: etcd's default)")
	if err := flags.Parse(os.Args[1:]); err != nil {
		return 2
	}
	if *advertise == "" {
		*advertise = *clientURL
	}
	cfg := embed.NewConfig()
	cfg.Dir = *dataDir
	cfg.UnsafeNoFsync = *noFsync
	cfg.QuotaBackendBytes = *quota
	cfg.LogLevel = "warn"
	client, err := url.Parse(*clientURL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd: invalid URL %q: %v\n", *clientURL, err)
		return 2
	}
	advertised, err := url.Parse(*advertise)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd: invalid URL %q: %v\n", *advertise, err)
		return 2
	}
	cfg.ListenClientUrls = []url.URL{*client}
	cfg.AdvertiseClientUrls = []url.URL{*advertised}
	peer, err := url.Parse(*peerURL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd: invalid URL %q: %v\n", *peerURL, err)
		return 2
	}
	cfg.ListenPeerUrls = []url.URL{*peer}
	cfg.AdvertisePeerUrls = []url.URL{*peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	server, err := embed.StartEtcd(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd: %v\n", err)
		return 1
	}
	defer server.Close()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-server.Server.ReadyNotify():
		fmt.Fprintln(os.Stderr, "etcd: ready to serve client requests")
	case <-stop:
		return 0
	}
	select {
	case err := <-server.Err():
		fmt.Fprintf(os.Stderr, "etcd: %v\n", err)
		return 1
	case <-stop:
		return 0
	}
}
