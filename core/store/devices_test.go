package store_test

import (
	"reflect"
	"testing"

	"github.com/cashlessmedia/cashless-auth/core/store"
)

func TestDevices(t *testing.T) {
	eachBackend(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		devices := store.NewDevices(db)
		ev := createEvent(t, db, "e1")
		ev2 := createEvent(t, db, "e2")
		op := createUser(t, db, "op@x.io", store.RoleOperator)

		id := must(devices.Create(ctx, store.NewDevice{EventID: ev, MAC: "AA:BB:CC:00:11:22", Name: "Bar 1"}))(t)
		d := must(devices.ByID(ctx, id))(t)
		if d.ID != id || d.EventID != ev || d.MAC != "AA:BB:CC:00:11:22" || d.Name != "Bar 1" ||
			d.OperatorID != nil || d.Archived || d.CreatedAt.IsZero() {
			t.Fatalf("ByID = %+v", d)
		}
		if got := must(devices.ByEventAndMAC(ctx, ev, "AA:BB:CC:00:11:22"))(t); !reflect.DeepEqual(got, d) {
			t.Fatalf("ByEventAndMAC = %+v, want %+v", got, d)
		}
		_, err := devices.ByEventAndMAC(ctx, ev2, "AA:BB:CC:00:11:22")
		wantErr(t, err, store.ErrNotFound)
		_, err = devices.ByID(ctx, id+1000)
		wantErr(t, err, store.ErrNotFound)

		_, err = devices.Create(ctx, store.NewDevice{EventID: ev, MAC: "AA:BB:CC:00:11:22", Name: "dup"})
		wantErr(t, err, store.ErrConflict)
		id2 := must(devices.Create(ctx, store.NewDevice{EventID: ev2, MAC: "AA:BB:CC:00:11:22", Name: "other event", OperatorID: &op}))(t)
		if d2 := must(devices.ByID(ctx, id2))(t); d2.OperatorID == nil || *d2.OperatorID != op {
			t.Fatalf("OperatorID = %v", d2.OperatorID)
		}
		_, err = devices.Create(ctx, store.NewDevice{EventID: ev + 1000, MAC: "x"})
		wantErr(t, err, store.ErrReference)
		missing := op + 1000
		_, err = devices.Create(ctx, store.NewDevice{EventID: ev, MAC: "y", OperatorID: &missing})
		wantErr(t, err, store.ErrReference)

		noErr(t, devices.SetOperator(ctx, id, op))
		if d := must(devices.ByID(ctx, id))(t); d.OperatorID == nil || *d.OperatorID != op {
			t.Fatalf("after SetOperator: %+v", d)
		}
		wantErr(t, devices.SetOperator(ctx, id, op+1000), store.ErrReference)
		wantErr(t, devices.SetOperator(ctx, id+1000, op), store.ErrNotFound)

		noErr(t, devices.Archive(ctx, id))
		noErr(t, devices.Archive(ctx, id))
		if d := must(devices.ByEventAndMAC(ctx, ev, "AA:BB:CC:00:11:22"))(t); !d.Archived {
			t.Fatalf("after Archive: %+v", d)
		}
		wantErr(t, devices.Archive(ctx, id+1000), store.ErrNotFound)
	})
}
