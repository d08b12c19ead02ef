package schema

// ParseInt converts a path or query parameter that Param.Check accepted for an integer schema
// (" 5 ", "5.0", "1_0" as pydantic does), so handlers never disagree with the validator.
func ParseInt(raw string) (int64, bool) {
	v, bad := strAsInt(raw)
	return v, bad == nil
}
