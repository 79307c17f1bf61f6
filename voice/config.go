package voice

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// Config holds the media settings of the relay. The zero value is a production
// setup that gathers on every interface with no STUN/TURN; Loopback is for tests.
type Config struct {
	// Loopback gathers host candidates on lo only (127.0.0.1), with mDNS off and
	// short setup waits, so media never leaves the machine.
	Loopback bool `yaml:"-"`
	// PublicIPs are the addresses clients reach this host on when it sits behind a
	// 1:1 NAT (e.g. a cloud VM's public IP); they replace the host candidates'.
	PublicIPs []string `yaml:"public_ips"`
	// UDPPortMin and UDPPortMax bound the UDP ports ICE listens on (both or none),
	// to open in a firewall.
	UDPPortMin uint16 `yaml:"udp_port_min"`
	UDPPortMax uint16 `yaml:"udp_port_max"`
	// ICEServers are optional STUN/TURN servers, for hosts without a known public
	// address or customers behind restrictive networks.
	ICEServers []ICEServer `yaml:"ice_servers"`
	// InviteLifetime is the lifetime sent in the relay's invites and the time after
	// which an unanswered invite of the relay is hung up (invite_timeout).
	InviteLifetime time.Duration `yaml:"invite_lifetime"`
	// ICEFailedTimeout is how long a connection may stay disconnected before the
	// leg ends with ice_failed.
	ICEFailedTimeout time.Duration `yaml:"ice_failed_timeout"`
	// ConnectTimeout is how long a leg may take from offer/answer to connected
	// media before it ends with ice_timeout.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// Prompt is an Ogg/Opus file (one 20 ms packet per page, see
	// internal/oggsplit) played to a customer who is answered before an agent is;
	// nil uses the built-in tone, NoPrompt plays nothing (silence).
	Prompt   []byte `yaml:"-"`
	NoPrompt bool   `yaml:"no_prompt"`
}

// ICEServer is one STUN or TURN server.
type ICEServer struct {
	URLs       []string `yaml:"urls"`
	Username   string   `yaml:"username"`
	Credential string   `yaml:"credential"`
}

// LoopbackConfig is the configuration for tests: loopback-only host candidates.
func LoopbackConfig() Config { return Config{Loopback: true} }

func (c Config) withDefaults() Config {
	if c.InviteLifetime <= 0 {
		c.InviteLifetime = DefaultLifetime * time.Millisecond
	}
	if c.ICEFailedTimeout <= 0 {
		c.ICEFailedTimeout = 15 * time.Second
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 30 * time.Second
	}
	return c
}

// Codecs sent and accepted: Opus and VP8, forwarded as they are.
var (
	opusCodec = webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1",
		},
		PayloadType: 111,
	}
	vp8Codec = webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "ccm", Parameter: "fir"}, {Type: "nack", Parameter: "pli"}},
		},
		PayloadType: 96,
	}
)

// API builds the pion API for this configuration. It is exported so test peers
// and benchmarks dial the relay with the same network settings.
func (c Config) API() (*webrtc.API, error) {
	c = c.withDefaults()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(opusCodec, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := m.RegisterCodec(vp8Codec, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	// RTCP reports for every stream; NACK for video only (Opus has in-band FEC and
	// no nack feedback is registered for it). No congestion control: the relay
	// forwards what it gets and cannot change the bitrate without transcoding.
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, err
	}
	s, err := c.settingEngine()
	if err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(s)), nil
}

func (c Config) settingEngine() (webrtc.SettingEngine, error) {
	s := webrtc.SettingEngine{}
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetICETimeouts(c.ICEFailedTimeout/3, c.ICEFailedTimeout, 2*time.Second)
	if c.Loopback {
		s.SetIncludeLoopbackCandidate(true)
		s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		s.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		s.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		// Host candidates are all there is on loopback: no reason to wait for better
		// ones, and a lost DTLS flight on an idle machine costs a full second.
		s.SetHostAcceptanceMinWait(0)
		s.SetSrflxAcceptanceMinWait(0)
		s.SetPrflxAcceptanceMinWait(0)
		s.SetDTLSRetransmissionInterval(100 * time.Millisecond)
		return s, nil
	}
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	if (c.UDPPortMin == 0) != (c.UDPPortMax == 0) || c.UDPPortMin > c.UDPPortMax {
		return s, fmt.Errorf("voice: udp_port_min and udp_port_max must both be set, min <= max")
	}
	if c.UDPPortMin != 0 {
		if err := s.SetEphemeralUDPPortRange(c.UDPPortMin, c.UDPPortMax); err != nil {
			return s, err
		}
	}
	if len(c.PublicIPs) > 0 {
		for _, ip := range c.PublicIPs {
			if net.ParseIP(ip) == nil {
				return s, fmt.Errorf("voice: public_ips: %q is not an IP address", ip)
			}
		}
		s.SetNAT1To1IPs(c.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	return s, nil
}

// peerConfig is the PeerConnection configuration (ICE servers, bundle).
func (c Config) peerConfig() webrtc.Configuration {
	pc := webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	}
	if c.Loopback {
		return pc
	}
	for _, s := range c.ICEServers {
		pc.ICEServers = append(pc.ICEServers, webrtc.ICEServer{
			URLs: s.URLs, Username: s.Username, Credential: s.Credential,
		})
	}
	return pc
}
