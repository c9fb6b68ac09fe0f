package siem

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/global"
)

// OTelSink emits each record as an OpenTelemetry log record through the
// global LoggerProvider (a no-op until the program installs one). The
// body is the JSON line; attributes are the stream, seq and kind. OTel
// export is best effort: the SDK's exporter does not acknowledge.
type OTelSink struct {
	logger log.Logger
}

// NewOTelSink uses the global LoggerProvider.
func NewOTelSink() *OTelSink {
	return &OTelSink{logger: global.Logger("github.com/ds4p/ds4p/siem")}
}

var otelSeverity = map[string]log.Severity{
	SeverityInfo: log.SeverityInfo, SeverityNotice: log.SeverityInfo2,
	SeverityWarning: log.SeverityWarn, SeverityAlert: log.SeverityError,
}

// Write emits recs.
func (s *OTelSink) Write(recs []Record) error {
	ctx := context.Background()
	for _, r := range recs {
		var rec log.Record
		rec.SetEventName("ds4p." + r.Stream + "." + r.Kind)
		rec.SetTimestamp(r.Time)
		rec.SetSeverity(otelSeverity[r.Severity])
		rec.SetSeverityText(r.Severity)
		rec.SetBody(attribute.StringValue(string(r.JSON)))
		rec.AddAttributes(attribute.String("ds4p.siem.stream", r.Stream), attribute.Int64("ds4p.siem.seq", int64(r.Seq)),
			attribute.String("ds4p.siem.kind", r.Kind))
		s.logger.Emit(ctx, rec)
	}
	return nil
}

// Close does nothing: the provider is the program's.
func (s *OTelSink) Close() error { return nil }
