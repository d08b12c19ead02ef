package phoneotp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"
)

// Message is one SMS carrying a verification code.
type Message struct {
	To   string // E.164
	Body string // the text the recipient reads, code included
	Code string // the code alone, for gateways that build their own text
}

// Sender delivers verification codes. An error means the code may not have reached the phone;
// the service then voids it.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// NewSender builds the provider sms.provider names.
func NewSender(c SMSConfig, log *zap.Logger) (Sender, error) {
	log = log.Named("sms")
	hc := &http.Client{
		Timeout: c.Timeout,
		// A gateway that redirects is misconfigured; following would turn the POST into a GET.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	switch c.Provider {
	case "log":
		if c.Log.RevealCode {
			log.Warn("sms.log.reveal_code is on: VERIFICATION CODES ARE WRITTEN TO THE LOG. Development only; never in production")
		} else {
			log.Warn("sms.provider is log: verification codes are not sent to anyone; configure webhook or twilio for production")
		}
		return &LogSender{Log: log, RevealCode: c.Log.RevealCode}, nil
	case "webhook":
		return &WebhookSender{URL: c.Webhook.URL, Secret: c.Webhook.Secret, Client: hc}, nil
	case "twilio":
		return &TwilioSender{
			BaseURL: strings.TrimRight(c.Twilio.BaseURL, "/"), AccountSID: c.Twilio.AccountSID,
			AuthToken: c.Twilio.AuthToken, From: c.Twilio.From, Client: hc,
		}, nil
	}
	return nil, fmt.Errorf("phoneotp: unknown sms.provider %q", c.Provider)
}

// LogSender sends nothing: it logs that a code was sent, for development and demos.
type LogSender struct {
	Log        *zap.Logger
	RevealCode bool
}

// Send implements Sender.
func (s *LogSender) Send(_ context.Context, m Message) error {
	if s.RevealCode {
		s.Log.Warn("INSECURE sms.log.reveal_code: verification code for development use", zap.String("to", MaskPhone(m.To)), zap.String("code", m.Code))
		return nil
	}
	s.Log.Info("verification code sent (log provider: not delivered)", zap.String("to", MaskPhone(m.To)))
	return nil
}

// WebhookSender POSTs {"to", "body", "code"} as JSON to a generic SMS gateway.
type WebhookSender struct {
	URL    string
	Secret string // "Authorization: Bearer <Secret>" when set
	Client *http.Client
}

// Send implements Sender; any answer but 2xx is a failure.
func (s *WebhookSender) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(map[string]string{"to": m.To, "body": m.Body, "code": m.Code})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.Secret != "" {
		req.Header.Set("Authorization", "Bearer "+s.Secret)
	}
	return do(s.Client, req, "sms webhook")
}

// TwilioSender uses Twilio's Messages REST API.
type TwilioSender struct {
	BaseURL    string // https://api.twilio.com, or a test server
	AccountSID string
	AuthToken  string
	From       string // E.164 number, or a Messaging Service SID (MG…)
	Client     *http.Client
}

// Send implements Sender: POST {base}/2010-04-01/Accounts/{sid}/Messages.json, form-encoded.
func (s *TwilioSender) Send(ctx context.Context, m Message) error {
	form := url.Values{"To": {m.To}, "Body": {m.Body}}
	if strings.HasPrefix(s.From, "MG") && !strings.HasPrefix(s.From, "+") {
		form.Set("MessagingServiceSid", s.From)
	} else {
		form.Set("From", s.From)
	}
	endpoint := s.BaseURL + "/2010-04-01/Accounts/" + url.PathEscape(s.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("sms twilio: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(s.AccountSID, s.AuthToken)
	return do(s.Client, req, "sms twilio")
}

// do sends req and reads a bounded part of the answer. Non-2xx answers become errors that name
// the status (and Twilio's error code and message when present), never the request body.
func do(c *http.Client, req *http.Request, what string) error {
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry credentials in a misconfiguration; keep it out of logs
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	var apiErr struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &apiErr) == nil && apiErr.Code != 0 {
		return fmt.Errorf("%s: status %d: error %d: %s", what, resp.StatusCode, apiErr.Code, apiErr.Message)
	}
	return fmt.Errorf("%s: status %d", what, resp.StatusCode)
}

// MaskPhone keeps a number recognisable in logs without writing it whole: "+1202*****43".
func MaskPhone(e164 string) string {
	if len(e164) <= 6 {
		return strings.Repeat("*", len(e164))
	}
	return e164[:4] + strings.Repeat("*", len(e164)-6) + e164[len(e164)-2:]
}
