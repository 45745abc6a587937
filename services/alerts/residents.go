package alerts

import (
	"context"
	"time"

	"vigie/events"
	"vigie/events/command"
	"vigie/policies"
	pb "vigie/services/alerts/alertspb"
	"vigie/services/alerts/resident"
	"vigie/services/guard"
)

type residentsAPI struct {
	s *Service
	pb.UnimplementedResidentsServer
}

// SetKeyWrapper gives the service the key-encryption key that wraps the
// residents' keys it issues (`vigie serve` and `vigie serve alerts` load it
// from VIGIE_RESIDENT_KEK_FILE or the data directory). Without one, the
// process's ephemeral KEK is used: nothing outlives the process, good for
// tests only. Set it before serving.
func (s *Service) SetKeyWrapper(w resident.KeyWrapper) { s.Keys = w }

func (s *Service) vault() KeyVault {
	return KeyVault{Store: s.store, Registry: s.registry, Keys: s.Keys}
}

// Register records a resident's voluntary registration: the contact details are
// sealed with the resident's own key before they reach the log, and that key
// reaches the log wrapped under the KEK (KeyVault).
func (a residentsAPI) Register(ctx context.Context, req *pb.RegisterResidentRequest) (*pb.ResidentReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := guard.CommandID(req.CommandId); err != nil {
		return nil, err
	}
	id := req.ResidentId
	if id == "" {
		id = guard.NewID(p.Subject, req.CommandId)
	}
	stream, err := guard.Stream(events.CategoryResident, id)
	if err != nil {
		return nil, err
	}
	// Authorize before touching the vault: a refused caller creates no key.
	by, err := a.s.guard.Act(p, req.Domain, policies.ObjectResident, policies.ActionRegister)
	if err != nil {
		return nil, guard.Status(err)
	}
	var loc resident.Point
	if req.Location != nil {
		loc = resident.Point{Lat: req.Location.Lat, Lon: req.Location.Lon}
	}
	reg := resident.Registration{
		ResidentID: id, Domain: req.Domain, Channels: req.Channels, Language: req.Language, Consent: req.Consent,
		Exercises: req.Exercises,
		Contact:   resident.Contact{Phone: req.Phone, Email: req.Email, Location: loc},
	}
	// The domain checks the registration before a key is made for it.
	if err := reg.Validate(); err != nil {
		return nil, guard.Status(&command.RefusedError{Err: err})
	}
	key, err := a.s.vault().Issue(ctx, id, req.Domain, req.CommandId, by, a.s.residents.Clock()())
	if err != nil {
		return nil, guard.Status(err)
	}
	res, err := a.s.residents.Handle(ctx, command.Command[*resident.Resident]{
		Name: "RegisterResident", Stream: stream, CommandID: req.CommandId,
		Authorize: func(r *resident.Resident) (events.Actor, string, error) {
			if r.Exists() {
				by, err := a.s.guard.ActOn(p, r.Domain(), policies.ObjectResident, policies.ActionRegister)
				return by, r.Domain(), err
			}
			return by, req.Domain, nil
		},
		Decide: func(r *resident.Resident, by events.Actor, now time.Time) ([]events.Event, error) {
			return r.Register(reg, key, by, now)
		},
	})
	if err != nil {
		return nil, guard.Status(err)
	}
	r := res.State
	return &pb.ResidentReply{ResidentId: r.ID(), Domain: r.Domain(), Channels: r.Channels(), Erased: r.Erased(),
		CommitPosition: res.Position.Commit, PreparePosition: res.Position.Prepare}, nil
}

// Erase forgets a resident: the erasure is recorded, then the key is shredded, so
// the sealed contact details in the log can never be opened again. A resent erasure
// shreds again (harmless), which also finishes one interrupted between the two steps.
func (a residentsAPI) Erase(ctx context.Context, req *pb.EraseResidentRequest) (*pb.ResidentReply, error) {
	p, err := guard.Caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := guard.CommandID(req.CommandId); err != nil {
		return nil, err
	}
	stream, err := guard.Stream(events.CategoryResident, req.ResidentId)
	if err != nil {
		return nil, err
	}
	res, err := a.s.residents.Handle(ctx, command.Command[*resident.Resident]{
		Name: "EraseResident", Stream: stream, CommandID: req.CommandId,
		Authorize: func(r *resident.Resident) (events.Actor, string, error) {
			if !r.Exists() {
				return events.Actor{}, "", resident.ErrNotFound
			}
			by, err := a.s.guard.ActOn(p, r.Domain(), policies.ObjectResident, policies.ActionErase)
			return by, r.Domain(), err
		},
		Decide: (*resident.Resident).Erase,
	})
	if err != nil {
		return nil, guard.Status(err)
	}
	if err := a.s.vault().Shred(ctx, req.ResidentId); err != nil {
		return nil, guard.Status(err)
	}
	r := res.State
	return &pb.ResidentReply{ResidentId: r.ID(), Domain: r.Domain(), Channels: r.Channels(), Erased: true,
		CommitPosition: res.Position.Commit, PreparePosition: res.Position.Prepare}, nil
}
